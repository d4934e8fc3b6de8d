//! The run's state machine, pure: from a run, its steps and what just
//! happened, the [`Advance`] to commit — which steps become due (and their
//! jobs), which are skipped (dead-path elimination after a condition or a
//! rejected approval), and when the run ends. No I/O here, so every
//! transition is computed afresh from the stored state if a concurrent
//! writer got there first.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::definition::{Definition, NodeKind};
use super::graph::Graph;
use super::model::{Advance, RunEvent, RunStatus, StepStatus, WorkflowRun, WorkflowStep};
pub use super::step_job::{StepJob, JOB_ATTEMPTS};
use crate::kinds::EventKind;

/// A run being changed.
pub struct Change<'a> {
    def: &'a Definition,
    graph: Graph<'a>,
    /// The steps by node, as they will be after this change.
    pub steps: BTreeMap<String, WorkflowStep>,
    advance: Advance,
    now: i64,
}

impl<'a> Change<'a> {
    /// Starts a change of `run` (with its `steps`) at `now`.
    pub fn new(def: &'a Definition, run: WorkflowRun, steps: Vec<WorkflowStep>, now: i64) -> Self {
        let steps = steps.into_iter().map(|s| (s.node_id.clone(), s)).collect();
        let mut run = run;
        run.updated_at = now;
        Self {
            def,
            graph: Graph::of(def),
            steps,
            advance: Advance {
                run,
                steps: Vec::new(),
                events: Vec::new(),
                jobs: Vec::new(),
                outbox: Vec::new(),
            },
            now,
        }
    }

    /// The run as changed so far.
    pub fn run(&self) -> &WorkflowRun {
        &self.advance.run
    }

    /// Appends a run event.
    pub fn event(&mut self, kind: &str, body: Value) {
        self.advance.run.event_seq += 1;
        self.advance.events.push(RunEvent {
            run_id: self.advance.run.id.clone(),
            seq: self.advance.run.event_seq,
            kind: kind.to_string(),
            body,
            created_at: self.now,
        });
    }

    fn outbox(&mut self, kind: EventKind, extra: Value) {
        let r = &self.advance.run;
        let mut payload = json!({
            "runId": r.id, "workflowId": r.workflow_id, "version": r.version,
            "status": r.status.as_str(), "startedBy": r.started_by,
        });
        if let (Some(p), Value::Object(x)) = (payload.as_object_mut(), extra) {
            p.extend(x);
        }
        self.advance.outbox.push((kind, payload));
    }

    fn put(&mut self, s: WorkflowStep) {
        self.advance.steps.retain(|x| x.node_id != s.node_id);
        self.advance.steps.push(s.clone());
        self.steps.insert(s.node_id.clone(), s);
    }

    /// The step of `node`, if it has one.
    pub fn step(&self, node: &str) -> Option<&WorkflowStep> {
        self.steps.get(node)
    }

    fn job(&mut self, node: &str, attempt: i64, timeout: bool, at: i64) {
        let j = StepJob {
            org_id: self.advance.run.org_id.clone(),
            run_id: self.advance.run.id.clone(),
            node_id: node.to_string(),
            attempt,
            timeout,
        };
        self.advance.jobs.push(j.job("", at));
    }

    /// Makes `node` due (a pending step and its job), at attempt `attempt`.
    pub fn schedule(&mut self, node: &str, attempt: i64) {
        let node_type = self
            .def
            .node(node)
            .map(|n| n.kind.name())
            .unwrap_or("unknown");
        self.put(WorkflowStep {
            run_id: self.advance.run.id.clone(),
            org_id: self.advance.run.org_id.clone(),
            node_id: node.to_string(),
            node_type: node_type.to_string(),
            status: StepStatus::Pending,
            attempt,
            input: None,
            output: None,
            error: None,
            approval_id: None,
            deadline: None,
            started_at: None,
            finished_at: None,
            updated_at: self.now,
        });
        self.job(node, attempt, false, self.now);
    }

    /// A new run: it starts at the input node.
    pub fn start(&mut self, start_node: &str) {
        self.event("run.started", json!({"input": self.advance.run.input}));
        self.outbox(EventKind::WorkflowRunStarted, json!({}));
        self.schedule(start_node, 1);
    }

    fn update(&mut self, node: &str, f: impl FnOnce(&mut WorkflowStep)) {
        if let Some(mut s) = self.steps.get(node).cloned() {
            f(&mut s);
            s.updated_at = self.now;
            self.put(s);
        }
    }

    /// The step begins executing (counts against the budget).
    pub fn begin(&mut self, node: &str) {
        let now = self.now;
        self.update(node, |s| {
            s.status = StepStatus::Running;
            s.started_at.get_or_insert(now);
        });
        self.advance.run.steps_used += 1;
        self.resume_if_suspended();
        self.event("step.started", json!({"nodeId": node}));
    }

    fn resume_if_suspended(&mut self) {
        let waiting = self.steps.values().any(|s| s.status == StepStatus::Waiting);
        if self.advance.run.status == RunStatus::Suspended && !waiting {
            self.advance.run.status = RunStatus::Running;
            self.event("run.resumed", json!({}));
        }
    }

    /// Records what the step ran with.
    pub fn set_input(&mut self, node: &str, input: Value) {
        self.update(node, |s| s.input = Some(input));
    }

    /// The step waits for a person: an approval step (with its lapse time), or
    /// a tool's approval.
    pub fn park(
        &mut self,
        node: &str,
        approval_id: Option<crate::ids::ApprovalId>,
        deadline: Option<i64>,
        info: Value,
    ) {
        let attempt = self.steps.get(node).map(|s| s.attempt).unwrap_or(1);
        self.update(node, |s| {
            s.status = StepStatus::Waiting;
            s.approval_id = approval_id.clone();
            s.deadline = deadline;
        });
        if let Some(at) = deadline {
            self.job(node, attempt, true, at);
        }
        self.event("step.waiting", json!({"nodeId": node, "approvalId": approval_id, "deadline": deadline, "detail": info}));
        if self.advance.run.status == RunStatus::Running {
            self.advance.run.status = RunStatus::Suspended;
            self.event("run.suspended", json!({"nodeId": node}));
            self.outbox(
                EventKind::WorkflowRunSuspended,
                json!({"nodeId": node, "approvalId": approval_id}),
            );
        }
    }

    /// The step finished with `output`; what follows becomes due.
    pub fn complete(&mut self, node: &str, output: Value) {
        let now = self.now;
        let out = output.clone();
        self.update(node, |s| {
            s.status = StepStatus::Completed;
            s.output = Some(out);
            s.error = None;
            s.finished_at = Some(now);
        });
        self.event("step.completed", json!({"nodeId": node, "output": output}));
        self.resume_if_suspended();
        self.follow(node);
        self.finish_if_done();
    }

    /// Records the outcome of a step that was executing when its run ended
    /// (cancelled meanwhile): the record is kept, nothing follows.
    pub fn settle_after_end(&mut self, node: &str, output: Option<Value>, error: Option<&str>) {
        let now = self.now;
        let failed = error.is_some();
        let (out, err) = (output.clone(), error.map(str::to_owned));
        self.update(node, |s| {
            s.status = if failed {
                StepStatus::Failed
            } else {
                StepStatus::Completed
            };
            s.output = out;
            s.error = err;
            s.finished_at = Some(now);
        });
        let kind = if failed {
            "step.failed"
        } else {
            "step.completed"
        };
        self.event(
            kind,
            json!({"nodeId": node, "output": output, "error": error, "afterRunEnded": true}),
        );
    }

    /// The step failed: so does the run.
    pub fn fail_step(&mut self, node: &str, error: &str) {
        let now = self.now;
        self.update(node, |s| {
            s.status = StepStatus::Failed;
            s.error = Some(error.to_string());
            s.finished_at = Some(now);
        });
        self.event("step.failed", json!({"nodeId": node, "error": error}));
        self.fail_run(&format!("{node}: {error}"));
    }

    /// The run stops as failed (pending steps are left as they are; their jobs see the run ended).
    pub fn fail_run(&mut self, error: &str) {
        self.end(RunStatus::Failed, Some(error.to_string()));
        self.event("run.failed", json!({"error": error}));
        self.outbox(EventKind::WorkflowRunFailed, json!({"error": error}));
    }

    /// The run is cancelled by `by`.
    pub fn cancel(&mut self, by: &str) {
        let msg = format!("Cancelled by {by}");
        self.end(RunStatus::Cancelled, Some(msg.clone()));
        self.event("run.cancelled", json!({"by": by}));
        self.outbox(EventKind::WorkflowRunCancelled, json!({"cancelledBy": by}));
    }

    fn end(&mut self, status: RunStatus, error: Option<String>) {
        let r = &mut self.advance.run;
        r.status = status;
        r.error = error;
        r.finished_at = Some(self.now);
    }

    /// Whether `e` carries the run on once its source step has completed.
    fn active(&self, source: &WorkflowStep, branch: Option<bool>) -> bool {
        if source.status != StepStatus::Completed {
            return false;
        }
        let out = source.output.as_ref();
        match source.node_type.as_str() {
            "condition" => out.and_then(|o| o.get("result")).and_then(Value::as_bool) == branch,
            "approval" => {
                out.and_then(|o| o.get("approved")).and_then(Value::as_bool) == Some(true)
            }
            _ => true,
        }
    }

    /// After `node` settled: each successor whose predecessors all settled is
    /// due (an active edge reaches it) or skipped (none does, and so on down).
    fn follow(&mut self, node: &str) {
        let targets: Vec<String> = self
            .graph
            .outgoing(node)
            .iter()
            .map(|e| e.target.clone())
            .collect();
        for t in targets {
            if self.steps.contains_key(&t) {
                continue;
            }
            let incoming: Vec<(String, Option<bool>)> = self
                .graph
                .incoming(&t)
                .iter()
                .map(|e| (e.source.clone(), e.branch))
                .collect();
            let sources: Vec<Option<&WorkflowStep>> =
                incoming.iter().map(|(s, _)| self.steps.get(s)).collect();
            if sources
                .iter()
                .any(|s| !s.is_some_and(|s| s.status.is_settled()))
            {
                continue; // a predecessor has not settled yet (or never will: skipped later)
            }
            let any_active = incoming
                .iter()
                .zip(&sources)
                .any(|((_, b), s)| s.is_some_and(|s| self.active(s, *b)));
            if any_active {
                self.schedule(&t, 1);
            } else {
                self.skip(&t);
            }
        }
    }

    fn skip(&mut self, node: &str) {
        self.schedule_settled(node, StepStatus::Skipped);
        self.event("step.skipped", json!({"nodeId": node}));
        self.follow(node);
    }

    fn schedule_settled(&mut self, node: &str, status: StepStatus) {
        let node_type = self
            .def
            .node(node)
            .map(|n| n.kind.name())
            .unwrap_or("unknown");
        self.put(WorkflowStep {
            run_id: self.advance.run.id.clone(),
            org_id: self.advance.run.org_id.clone(),
            node_id: node.to_string(),
            node_type: node_type.to_string(),
            status,
            attempt: 1,
            input: None,
            output: None,
            error: None,
            approval_id: None,
            deadline: None,
            started_at: None,
            finished_at: Some(self.now),
            updated_at: self.now,
        });
    }

    /// The run completes once every step settled and nothing more is due.
    fn finish_if_done(&mut self) {
        if self.advance.run.status.is_terminal()
            || self.steps.values().any(|s| !s.status.is_settled())
        {
            return;
        }
        let output = self
            .def
            .nodes
            .iter()
            .filter(|n| matches!(n.kind, NodeKind::Output(_)))
            .filter_map(|n| self.steps.get(&n.id))
            .filter(|s| s.status == StepStatus::Completed)
            .find_map(|s| s.output.clone());
        self.advance.run.output = Some(output.clone().unwrap_or(Value::Null));
        self.end(RunStatus::Completed, None);
        self.event("run.completed", json!({"output": output}));
        self.outbox(EventKind::WorkflowRunCompleted, json!({}));
    }

    /// A failed run goes on from its failed steps, and any left unfinished
    /// when it stopped (each a new attempt).
    pub fn retry(&mut self) -> usize {
        let failed: Vec<(String, i64)> = self
            .steps
            .values()
            .filter(|s| s.status == StepStatus::Failed || !s.status.is_settled())
            .map(|s| (s.node_id.clone(), s.attempt))
            .collect();
        for (node, attempt) in &failed {
            self.schedule(node, attempt + 1);
        }
        if !failed.is_empty() {
            let r = &mut self.advance.run;
            r.status = RunStatus::Running;
            r.error = None;
            r.finished_at = None;
            let nodes: Vec<&str> = failed.iter().map(|(n, _)| n.as_str()).collect();
            self.event("run.retried", json!({"nodes": nodes}));
        }
        failed.len()
    }

    /// Every completed step's output by node id (what expressions see as `steps`).
    pub fn outputs(&self) -> Map<String, Value> {
        self.steps
            .values()
            .filter(|s| s.status == StepStatus::Completed)
            .filter_map(|s| Some((s.node_id.clone(), s.output.clone()?)))
            .collect()
    }

    /// The change to commit.
    pub fn into_advance(self) -> Advance {
        self.advance
    }
}
