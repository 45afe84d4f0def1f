/// The Sweeps stage of convsweep.
public enum SweepsModule {}
