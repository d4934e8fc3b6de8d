//! The names the ledger and the outbox use: every audit action and every
//! outbox event kind the portal writes, as enums. A misspelt action can no
//! longer reach the ledger, and subscribers, filters and docs can list the
//! kinds that exist. Records read back stay text: a ledger must replay what an
//! older version wrote, whatever it was called then.

use crate::status::text_enum;

text_enum! {
    /// What an audit entry records.
    pub enum AuditAction {
        /// A password sign-in succeeded.
        AuthSignIn = "auth.sign_in",
        /// A password sign-in failed.
        AuthSignInFailed = "auth.sign_in_failed",
        /// Sign-ins for an account were paused after too many failures.
        AuthSignInThrottled = "auth.sign_in_throttled",
        /// A correct password was refused (the organisation signs in with SSO only).
        AuthSignInRefused = "auth.sign_in_refused",
        /// A platform admin signed in with a password where SSO is required.
        AuthBreakGlassSignIn = "auth.break_glass_sign_in",
        /// A session was signed out.
        AuthSignOut = "auth.sign_out",
        /// A user changed their password.
        AuthPasswordChanged = "auth.password_changed",
        /// A user signed out one of their other sessions.
        AuthSessionRevoked = "auth.session_revoked",
        /// A single sign-on attempt was refused.
        AuthSsoRefused = "auth.sso_refused",
        /// A single sign-on sign-in succeeded.
        AuthSsoSignIn = "auth.sso_sign_in",
        /// First-run setup created the first admin.
        SetupCompleted = "setup.completed",
        /// An account was created.
        UserCreated = "user.created",
        /// An organisation was created.
        OrgCreated = "org.created",
        /// An organisation's settings changed.
        OrgSettingsChanged = "org.settings_changed",
        /// A platform admin assigned an organisation's compartments.
        OrgCompartmentsAssigned = "org.compartments_assigned",
        /// Someone was invited.
        MemberInvited = "member.invited",
        /// A member was added (setup, single sign-on provisioning).
        MemberAdded = "member.added",
        /// An invitation was accepted.
        MemberJoined = "member.joined",
        /// An invitation was declined.
        MemberInvitationDeclined = "member.invitation_declined",
        /// A member's role changed.
        MemberRoleChanged = "member.role_changed",
        /// A member left or was removed.
        MemberRemoved = "member.removed",
        /// An API key was created.
        ApiKeyCreated = "api_key.created",
        /// An API key was revoked.
        ApiKeyRevoked = "api_key.revoked",
        /// A tool call went through the gateway.
        ToolExecute = "tool.execute",
        /// A tool call asked for an approval.
        ApprovalRequested = "approval.requested",
        /// An approval was granted.
        ApprovalApproved = "approval.approved",
        /// An approval was refused.
        ApprovalRejected = "approval.rejected",
        /// A chat message was refused by the guardrails.
        ChatRefused = "chat.refused",
        /// The instance-wide settings changed.
        PortalSettingsChanged = "portal.settings_changed",
        /// The master key was rotated.
        KeyringRotated = "keyring.rotated",
        /// A workflow was created.
        WorkflowCreated = "workflow.created",
        /// A workflow draft was edited.
        WorkflowUpdated = "workflow.updated",
        /// A workflow was published.
        WorkflowPublished = "workflow.published",
        /// A workflow was archived.
        WorkflowArchived = "workflow.archived",
        /// A workflow was deleted.
        WorkflowDeleted = "workflow.deleted",
        /// A workflow's approval step was approved.
        WorkflowStepApproved = "workflow.step.approved",
        /// A workflow's approval step was rejected.
        WorkflowStepRejected = "workflow.step.rejected",
        /// A webhook subscription was created.
        WebhookCreated = "webhook.created",
        /// A webhook subscription was changed.
        WebhookUpdated = "webhook.updated",
        /// A webhook's signing secret was rotated.
        WebhookSecretRotated = "webhook.secret_rotated",
        /// A webhook subscription was removed.
        WebhookDeleted = "webhook.deleted",
        /// A test delivery was sent.
        WebhookTested = "webhook.tested",
        /// A delivery was queued again by hand.
        WebhookRedelivered = "webhook.redelivered",
        /// A subscription was disabled after failing too long.
        WebhookDisabled = "webhook.disabled",
        /// An identity provider was added.
        IdpCreated = "idp.created",
        /// An identity provider was changed.
        IdpUpdated = "idp.updated",
        /// An identity provider was removed.
        IdpDeleted = "idp.deleted",
        /// An AI provider was added.
        AiProviderCreated = "ai_provider.created",
        /// An AI provider was changed.
        AiProviderUpdated = "ai_provider.updated",
        /// An AI provider was removed.
        AiProviderDeleted = "ai_provider.deleted",
        /// An AI provider was tested.
        AiProviderTested = "ai_provider.tested",
        /// A remote MCP server was added.
        McpServerCreated = "mcp_server.created",
        /// A remote MCP server was changed.
        McpServerUpdated = "mcp_server.updated",
        /// A remote MCP server was removed.
        McpServerDeleted = "mcp_server.deleted",
        /// A remote MCP server was connected again (its tools listed, or its failure recorded).
        McpServerRefreshed = "mcp_server.refreshed",
        /// The risk of one of a remote MCP server's tools was set.
        McpServerToolRiskSet = "mcp_server.tool_risk_set",
        /// An advisor scan was started.
        AdvisorRunStarted = "advisor.run_started",
        /// A finding was acknowledged.
        AdvisorFindingAcknowledged = "advisor.finding_acknowledged",
        /// A finding was dismissed.
        AdvisorFindingDismissed = "advisor.finding_dismissed",
        /// An advisor schedule was created.
        AdvisorScheduleCreated = "advisor.schedule_created",
        /// An advisor schedule was changed.
        AdvisorScheduleUpdated = "advisor.schedule_updated",
        /// An advisor schedule was removed.
        AdvisorScheduleDeleted = "advisor.schedule_deleted",
    }
}

text_enum! {
    /// What an outbox event (and so a webhook delivery) announces.
    pub enum EventKind {
        /// A tool ran through the gateway (successfully or not).
        ToolExecuted = "tool.executed",
        /// A tool call needs an approval; a new one was created.
        ApprovalRequested = "approval.requested",
        /// An approver approved or rejected a request.
        ApprovalDecided = "approval.decided",
        /// A person was invited to the organisation.
        MemberInvited = "member.invited",
        /// A member's role changed.
        MemberRoleChanged = "member.role_changed",
        /// A member left or was removed.
        MemberRemoved = "member.removed",
        /// An API key was created.
        ApiKeyCreated = "api_key.created",
        /// An API key was revoked.
        ApiKeyRevoked = "api_key.revoked",
        /// A workflow run started.
        WorkflowRunStarted = "workflow.run.started",
        /// A workflow run is waiting on an approval step.
        WorkflowRunSuspended = "workflow.run.suspended",
        /// A workflow run finished.
        WorkflowRunCompleted = "workflow.run.completed",
        /// A workflow run failed.
        WorkflowRunFailed = "workflow.run.failed",
        /// A workflow run was cancelled.
        WorkflowRunCancelled = "workflow.run.cancelled",
        /// An advisor scan finished.
        AdvisorRunCompleted = "advisor.run_completed",
        /// An advisor scan failed.
        AdvisorRunFailed = "advisor.run_failed",
        /// A schedule started its scan.
        AdvisorScheduleTicked = "advisor.schedule_ticked",
        /// The advisor found something new.
        FindingCreated = "finding.created",
        /// A finding no longer holds.
        FindingResolved = "finding.resolved",
        /// A subscription was disabled after failing too long.
        WebhookDisabled = "webhook.disabled",
        /// A test delivery an admin asked for.
        WebhookTest = "webhook.test",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_dotted_lower_case_and_round_trip() {
        fn check(names: &[&str]) {
            let mut seen = std::collections::BTreeSet::new();
            for n in names {
                assert!(seen.insert(*n), "{n} is listed twice");
                assert!(n.contains('.'), "{n} has no namespace");
                assert!(
                    n.chars()
                        .all(|c| c.is_ascii_lowercase() || c == '.' || c == '_'),
                    "{n}"
                );
            }
        }
        check(
            &AuditAction::ALL
                .iter()
                .map(|a| a.as_str())
                .collect::<Vec<_>>(),
        );
        check(
            &EventKind::ALL
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>(),
        );
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::parse(a.as_str()), Some(*a));
        }
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.as_str()), Some(*k));
        }
        assert_eq!(EventKind::parse("tool.execute"), None);
        assert_eq!(AuditAction::parse("tool.executed"), None);
    }
}
