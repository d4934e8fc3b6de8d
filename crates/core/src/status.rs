//! The states of the domain's records as enums: each maps to its stable text
//! only at the store and wire boundaries, so a misspelt state cannot compile
//! and a state machine is a `match` the compiler checks for completeness.

/// Declares an enum of states with its stable text, `ALL`, `as_str`, `parse`,
/// `Display` and serde as that text.
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every state, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable text (stored and on the wire).
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $text, )+
                }
            }

            /// The state of a stable text; `None` for anything else.
            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $( $text => Some($name::$variant), )+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

/// Shared with the other modules' state enums (workflows).
pub(crate) use text_enum;

text_enum! {
    /// Where an approval is in its life: asked, then decided, then (if approved)
    /// spent by exactly one run — or lapsed.
    pub enum ApprovalStatus {
        /// Waiting for a decision.
        Pending = "pending",
        /// Approved, not used yet.
        Approved = "approved",
        /// Rejected.
        Rejected = "rejected",
        /// Approved and spent by the run it was for.
        Consumed = "consumed",
        /// Lapsed before a decision or before use.
        Expired = "expired",
    }
}

text_enum! {
    /// The outcome of a tool run as the activity feed records it.
    pub enum ExecutionStatus {
        /// Ran and answered.
        Success = "success",
        /// Ran and failed (or the cloud refused).
        Error = "error",
        /// Refused by the gateway (permissions, policy).
        Denied = "denied",
        /// Waiting for an approval.
        Pending = "pending",
        /// Running, or its outcome is not written yet.
        Running = "running",
        /// Its outcome was lost (found by the finishing sweep).
        Unknown = "unknown",
    }
}

text_enum! {
    /// Where a chat turn is: running on a replica, parked, or over.
    pub enum TurnStatus {
        /// Running under a lease.
        Running = "running",
        /// Parked on an approval, holding no worker.
        AwaitingApproval = "awaiting_approval",
        /// Ready to run again (its approval was decided, or its replica died).
        Resumable = "resumable",
        /// Finished.
        Done = "done",
        /// Gave up.
        Failed = "failed",
    }
}

impl TurnStatus {
    /// True for `done` and `failed`: the turn is over and holds no lease.
    pub fn is_finished(self) -> bool {
        matches!(self, TurnStatus::Done | TurnStatus::Failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_round_trips_through_its_text_and_nothing_else_parses() {
        for s in ApprovalStatus::ALL {
            assert_eq!(ApprovalStatus::parse(s.as_str()), Some(*s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for s in ExecutionStatus::ALL {
            assert_eq!(ExecutionStatus::parse(s.as_str()), Some(*s));
        }
        for s in TurnStatus::ALL {
            assert_eq!(TurnStatus::parse(s.as_ref()), Some(*s));
        }
        assert_eq!(TurnStatus::AwaitingApproval.as_str(), "awaiting_approval");
        let names: Vec<&str> = TurnStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            names,
            [
                "running",
                "awaiting_approval",
                "resumable",
                "done",
                "failed"
            ]
        );
        assert_eq!(TurnStatus::parse("Done"), None);
        assert!(TurnStatus::Failed.is_finished() && !TurnStatus::Resumable.is_finished());
        assert_eq!(ApprovalStatus::parse("Pending"), None);
        assert_eq!(ExecutionStatus::parse(""), None);
        assert!(ApprovalStatus::Pending == "pending");
    }
}
