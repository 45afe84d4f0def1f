/// The Measurement stage of convsweep.
public enum MeasurementModule {}
