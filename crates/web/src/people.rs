//! Who a principal id is, in words: "you", a member's name, `key <name>`, or
//! the id itself for someone no longer in the organisation.

use std::collections::HashMap;

use portal_core::service::{members, Ctx};

use crate::visit::{Member, PageError};

/// The organisation's principals by id, as the viewer reads them.
pub struct People {
    me: String,
    names: HashMap<String, String>,
}

impl People {
    /// Loads the names of the viewer's organisation.
    pub async fn load(ctx: &Ctx<'_>, m: &Member) -> Result<Self, PageError> {
        Ok(People {
            me: m.principal.id.clone(),
            names: members::display_names(ctx, &m.principal).await?,
        })
    }

    /// The display form of `principal`.
    pub fn show(&self, principal: &str) -> String {
        if principal == self.me {
            return "you".into();
        }
        self.names
            .get(principal)
            .cloned()
            .unwrap_or_else(|| principal.to_string())
    }
}
