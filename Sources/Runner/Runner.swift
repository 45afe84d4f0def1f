/// The Runner stage of convsweep.
public enum RunnerModule {}
