//! Stage two: RawArgs -> a validated plan, with kubectl's checks in kubectl's order.
