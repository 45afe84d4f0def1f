/// The AlphaFit stage of convsweep.
public enum AlphaFitModule {}
