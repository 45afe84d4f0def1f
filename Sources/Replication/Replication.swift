/// The Replication stage of convsweep.
public enum ReplicationModule {}
