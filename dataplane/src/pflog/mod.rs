//! pflog: DLT_PFLOG (117) records of logged packets.
