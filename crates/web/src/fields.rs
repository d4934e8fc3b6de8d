//! Form fields with their server-side validation message: a core service's
//! 400 names the field (`newPassword: must be …`, `args/rules/0/port: …`), and
//! the page shows the message on that field (`aria-invalid`, described by it)
//! or, for a field the form does not have, above the form.

use maud::{html, Markup};
use portal_core::CoreError;

use crate::visit::PageError;

/// A validation problem: the field it names (if any) and what is wrong.
#[derive(Debug, Clone, Default)]
pub struct Problem {
    /// The field path the message starts with (`newPassword`, `args/limit`).
    pub field: Option<String>,
    /// The whole message.
    pub message: String,
}

impl Problem {
    /// From a message `path: text` (a path has no spaces); otherwise unnamed.
    pub fn of(message: &str) -> Self {
        let field = message
            .split_once(": ")
            .map(|(f, _)| f)
            .filter(|f| !f.is_empty() && !f.contains(' '))
            .map(str::to_string);
        Problem {
            field,
            message: message.to_string(),
        }
    }

    /// The message when it names `field`.
    pub fn on(&self, field: &str) -> Option<&str> {
        (self.field.as_deref() == Some(field)).then_some(self.message.as_str())
    }
}

/// A core error a form shows next to its fields (validation and conflicts); any
/// other error is the page's error.
pub fn form_problem(e: CoreError) -> Result<Problem, PageError> {
    match e {
        CoreError::Validation(m) | CoreError::Conflict(m) => Ok(Problem::of(&m)),
        other => Err(other.into()),
    }
}

/// A labelled input with its hint and, when `problem` names it, the message.
pub struct Field<'a> {
    /// `id` and `name`.
    pub name: &'a str,
    /// Visible label.
    pub label: &'a str,
    /// `type` (`text`, `password`, `email`, …).
    pub kind: &'a str,
    /// Current value.
    pub value: &'a str,
    /// A hint under the label.
    pub hint: Option<&'a str>,
    /// `autocomplete`.
    pub autocomplete: Option<&'a str>,
    /// `required`.
    pub required: bool,
}

impl Field<'_> {
    /// The field's markup, with `problem`'s message if it names this field.
    pub fn render(&self, problem: Option<&Problem>) -> Markup {
        let err = problem.and_then(|p| p.on(self.name));
        let err_id = format!("{}-error", self.name);
        let hint_id = format!("{}-hint", self.name);
        let described = match (err.is_some(), self.hint.is_some()) {
            (true, true) => Some(format!("{err_id} {hint_id}")),
            (true, false) => Some(err_id.clone()),
            (false, true) => Some(hint_id.clone()),
            (false, false) => None,
        };
        html! {
            div.field.invalid[err.is_some()] {
                label for=(self.name) { (self.label) }
                @if let Some(h) = self.hint { span.hint id=(hint_id) { (h) } }
                input id=(self.name) name=(self.name) type=(self.kind) value=(self.value)
                    autocomplete=[self.autocomplete] required[self.required]
                    aria-invalid=[err.map(|_| "true")] aria-describedby=[described];
                @if let Some(e) = err { p.field-error id=(err_id) { (e) } }
            }
        }
    }
}

/// The form-level notice for a problem that names none of `fields`.
pub fn unplaced(problem: Option<&Problem>, fields: &[&str]) -> Markup {
    let show = problem.filter(|p| !fields.iter().any(|f| p.on(f).is_some()));
    html! {
        @if let Some(p) = show {
            div.notice.error role="alert" { (p.message) }
        }
    }
}

/// A form's fields in order, repeats kept (check boxes, generated forms).
pub struct Pairs(pub Vec<(String, String)>);

impl Pairs {
    /// The first value of `name`, or "".
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_names_its_field_path() {
        let p = Problem::of("args/rules/0/port: must be at most 65535");
        assert_eq!(p.field.as_deref(), Some("args/rules/0/port"));
        assert!(p.on("args/rules/0/port").is_some());
        assert!(p.on("args/rules").is_none());
        assert_eq!(Problem::of("Already a member: yes").field, None);
        assert_eq!(Problem::of("no field here").field, None);
    }
}
