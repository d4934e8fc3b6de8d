//! Compute Instance Agent: run commands and their executions, agent plugins.
//!
//! The emulator cannot run scripts on real machines; instead a tiny shell
//! interpreter answers the commands an operator typically sends (`echo`,
//! `hostname`, `uname`, `uptime`, `df -h`, `free -m`, `cat /etc/os-release`, ...)
//! from the instance's own data, and anything else fails with exit code 127 and
//! `command not found`, as bash would. Scripts can come inline (TEXT) or from an
//! object in the emulator's Object Storage (OBJECT_STORAGE_TUPLE / _URI).

use serde_json::{json, Map, Value};

use super::Ctx;
use crate::lifecycle::Lifecycle;
use crate::state::{kind, Res};
use crate::wire::{self, copy_tags, time_value, ApiError, BodyExt, Reply, Req};

fn execution_key(command: &str, instance: &str) -> String {
    format!("{command}|{instance}")
}

/// Read an object's bytes from the emulator's Object Storage.
fn read_object(ctx: &Ctx<'_>, ns: &str, bucket: &str, object: &str) -> Result<String, ApiError> {
    if ns != ctx.st.meta.namespace {
        return Err(ApiError::invalid(format!(
            "Namespace `{ns}` does not exist"
        )));
    }
    let b = ctx
        .st
        .all(kind::BUCKET)
        .find(|b| b.str("name") == Some(bucket))
        .ok_or_else(|| ApiError::invalid(format!("Bucket `{bucket}` does not exist")))?;
    let meta = ctx
        .st
        .objects
        .get(b.id())
        .and_then(|o| o.get(object))
        .ok_or_else(|| {
            ApiError::invalid(format!(
                "Object `{object}` does not exist in bucket `{bucket}`"
            ))
        })?;
    let data = std::fs::read(ctx.blob_dir.join(&meta.sha256))
        .map_err(|e| ApiError::internal(format!("object data is missing: {e}")))?;
    Ok(String::from_utf8_lossy(&data).into_owned())
}

/// Interpret a script against an instance; returns (exit code, output).
fn run_script(ctx: &Ctx<'_>, instance: &Res, script: &str) -> (i64, String) {
    let name = instance.str("displayName").unwrap_or("instance");
    let host = name
        .to_lowercase()
        .replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "");
    let ocpus = instance
        .body
        .get("shapeConfig")
        .and_then(|c| c.get("ocpus"))
        .and_then(Value::as_f64)
        .unwrap_or(1.0);
    let mem_gb = instance
        .body
        .get("shapeConfig")
        .and_then(|c| c.get("memoryInGBs"))
        .and_then(Value::as_f64)
        .unwrap_or(1.0);
    let booted = instance.lc.entered("RUNNING", ctx.now).unwrap_or(ctx.now);
    let mut out = String::new();
    let mut code = 0;
    for line in script.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        for (i, part) in line.split("&&").enumerate() {
            if i > 0 && code != 0 {
                break;
            }
            for cmd in part.split(';') {
                let words: Vec<&str> = cmd.split_whitespace().collect();
                let Some(first) = words.first() else { continue };
                code = 0;
                match *first {
                    "echo" => {
                        let text = words[1..].join(" ");
                        out.push_str(text.trim_matches(|c| c == '"' || c == '\''));
                        out.push('\n');
                    }
                    "hostname" => out.push_str(&format!("{host}\n")),
                    "whoami" => out.push_str("root\n"),
                    "id" => out.push_str("uid=0(root) gid=0(root) groups=0(root)\n"),
                    "pwd" => out.push_str("/\n"),
                    "true" | "sleep" | "cd" | ":" => {}
                    "false" => code = 1,
                    "exit" => {
                        code = words.get(1).and_then(|c| c.parse().ok()).unwrap_or(0);
                        return (code, out);
                    }
                    "nproc" => out.push_str(&format!("{}\n", (ocpus * 2.0) as i64)),
                    "uname" => {
                        let arch = if instance.str("shape").is_some_and(|s| s.contains("A1")) { "aarch64" } else { "x86_64" };
                        if words.get(1) == Some(&"-a") {
                            out.push_str(&format!("Linux {host} 5.15.0-208.159.3.el8uek.{arch} #2 SMP {arch} GNU/Linux\n"));
                        } else if words.get(1) == Some(&"-r") {
                            out.push_str(&format!("5.15.0-208.159.3.el8uek.{arch}\n"));
                        } else {
                            out.push_str("Linux\n");
                        }
                    }
                    "uptime" => {
                        let mins = (ctx.now - booted).max(0) / 60_000;
                        out.push_str(&format!(
                            " {} up {} days, {:2}:{:02},  1 user,  load average: 0.{:02}, 0.{:02}, 0.{:02}\n",
                            &wire::fmt_time(ctx.now)[11..19],
                            mins / 1440,
                            (mins % 1440) / 60,
                            mins % 60,
                            mins % 97,
                            mins % 89,
                            mins % 83
                        ));
                    }
                    "date" => out.push_str(&format!("{}\n", wire::fmt_time(ctx.now))),
                    "df" => out.push_str("Filesystem                  Size  Used Avail Use% Mounted on\n/dev/mapper/ocivolume-root   36G   12G   24G  34% /\n/dev/sda2                   1.0G  356M  659M  36% /boot\n"),
                    "free" => {
                        let total = (mem_gb * 1024.0) as i64;
                        out.push_str(&format!(
                            "              total        used        free      shared  buff/cache   available\nMem:        {total:>7}     {:>7}     {:>7}          20     {:>7}     {:>7}\n",
                            total * 35 / 100,
                            total * 40 / 100,
                            total * 25 / 100,
                            total * 60 / 100
                        ));
                    }
                    "cat" if words.get(1) == Some(&"/etc/os-release") => {
                        out.push_str("NAME=\"Oracle Linux Server\"\nVERSION=\"8.10\"\nID=\"ol\"\nPRETTY_NAME=\"Oracle Linux Server 8.10\"\n");
                    }
                    "systemctl" if words.get(1) == Some(&"is-active") => out.push_str("active\n"),
                    other => {
                        out.push_str(&format!("bash: line 1: {other}: command not found\n"));
                        code = 127;
                    }
                }
            }
        }
    }
    (code, out)
}

/// POST /instanceAgentCommands
pub(crate) fn create_command(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let body = req.json()?;
    let compartment = body.req_str("compartmentId")?;
    ctx.require_compartment(&compartment)?;
    let timeout = body
        .opt_i64("executionTimeOutInSeconds")?
        .ok_or_else(|| ApiError::missing("executionTimeOutInSeconds"))?;
    if !(1..=172_800).contains(&timeout) {
        return Err(ApiError::invalid(
            "executionTimeOutInSeconds must be between 1 and 172800",
        ));
    }
    let target = body
        .opt_obj("target")?
        .ok_or_else(|| ApiError::missing("target"))?
        .clone();
    let instance_id = target.req_str("instanceId")?;
    let content = body
        .opt_obj("content")?
        .ok_or_else(|| ApiError::missing("content"))?
        .clone();
    let source = content
        .opt_obj("source")?
        .ok_or_else(|| ApiError::missing("content.source"))?
        .clone();
    let script = match source
        .opt_enum(
            "sourceType",
            &["TEXT", "OBJECT_STORAGE_URI", "OBJECT_STORAGE_TUPLE"],
        )?
        .ok_or_else(|| ApiError::missing("content.source.sourceType"))?
        .as_str()
    {
        "TEXT" => source.req_str("text")?,
        "OBJECT_STORAGE_TUPLE" => read_object(
            ctx,
            &source.req_str("namespaceName")?,
            &source.req_str("bucketName")?,
            &source.req_str("objectName")?,
        )?,
        _ => {
            let uri = source.req_str("sourceUri")?;
            let parts: Vec<&str> = uri.split('/').collect();
            let n = parts.iter().position(|p| *p == "n");
            match n.and_then(|i| Some((parts.get(i + 1)?, parts.get(i + 3)?, parts.get(i + 5..)?))) {
                Some((ns, bucket, obj)) if !obj.is_empty() => read_object(ctx, ns, bucket, &obj.join("/"))?,
                _ => return Err(ApiError::invalid(format!("sourceUri `{uri}` is not an Object Storage object URL (.../n/<ns>/b/<bucket>/o/<object>)"))),
            }
        }
    };
    let instance = ctx
        .st
        .get(kind::INSTANCE, &instance_id)
        .ok_or_else(|| ApiError::not_found(format!("instance {instance_id}")))?
        .clone();
    let now = ctx.now;
    let id = ctx.st.new_ocid("instanceagentcommand", true);
    let display = body
        .opt_str("displayName")?
        .unwrap_or_else(|| format!("command-{}", now / 1000));
    let mut m = Map::new();
    m.insert("id".into(), json!(id));
    m.insert("compartmentId".into(), json!(compartment));
    m.insert("displayName".into(), json!(display));
    m.insert("timeCreated".into(), time_value(now));
    m.insert("timeUpdated".into(), time_value(now));
    m.insert("isCanceled".into(), json!(false));
    m.insert("executionTimeOutInSeconds".into(), json!(timeout));
    m.insert("target".into(), Value::Object(target));
    m.insert("content".into(), Value::Object(content));
    copy_tags(&body, &mut Map::new())?;
    let command = Res::new(m, Lifecycle::default());
    ctx.st.insert(kind::AGENT_COMMAND, command.clone());

    let running = instance.state(now) == Some("RUNNING");
    let sequence = ctx
        .st
        .all(kind::AGENT_EXECUTION)
        .filter(|e| e.str("instanceId") == Some(instance_id.as_str()))
        .count()
        + 1;
    let (code, output) = if running {
        run_script(ctx, &instance, &script)
    } else {
        (0, String::new())
    };
    let lc = if running {
        let last = if code == 0 { "SUCCEEDED" } else { "FAILED" };
        Lifecycle::path(&["ACCEPTED", "IN_PROGRESS", last], now, ctx.delay)
    } else {
        let mut lc = Lifecycle::fixed("ACCEPTED", now);
        lc.transition(&["TIMED_OUT"], now + timeout * 1000, 0);
        lc
    };
    let exec = json!({
        "instanceAgentCommandId": id,
        "instanceId": instance_id,
        "displayName": display,
        "timeCreated": time_value(now),
        "timeUpdated": time_value(now),
        "sequenceNumber": sequence,
        "content": {
            "outputType": "TEXT",
            "exitCode": code,
            "message": if running { "Command execution completed" } else { "Waiting for the instance agent" },
            "text": output,
            "textSha256": wire::hex_digest(output.as_bytes()),
        },
    });
    ctx.st.insert_as(
        kind::AGENT_EXECUTION,
        &execution_key(&id, &instance_id),
        Res::new(exec.as_object().cloned().unwrap_or_default(), lc),
    );
    ctx.audit(
        &compartment,
        "ComputeInstanceAgent.CreateInstanceAgentCommand",
        &instance,
        &format!("Run command {display} sent"),
    );
    Ok(command.reply(now))
}

const COMMAND_SUMMARY: &[&str] = &[
    "displayName",
    "compartmentId",
    "timeCreated",
    "timeUpdated",
    "isCanceled",
];

/// GET /instanceAgentCommands
pub(crate) fn list_commands(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let compartment = ctx.compartment_param(req)?;
    let mut items: Vec<Value> = ctx
        .st
        .all(kind::AGENT_COMMAND)
        .filter(|c| c.str("compartmentId") == Some(compartment.as_str()))
        .map(|c| {
            let mut m: Map<String, Value> = c
                .body
                .iter()
                .filter(|(k, _)| COMMAND_SUMMARY.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            m.insert("instanceAgentCommandId".into(), json!(c.id()));
            Value::Object(m)
        })
        .collect();
    wire::sort_items(req, &mut items, super::SORT_TIME_NAME)?;
    wire::list_reply(req, items)
}

/// GET /instanceAgentCommands/{id}
pub(crate) fn get_command(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    Ok(ctx
        .get(kind::AGENT_COMMAND, req.path("instanceAgentCommandId"))?
        .reply(ctx.now))
}

/// An execution as of now: output only once finished; delivery state follows lifecycle.
fn render_execution(ctx: &Ctx<'_>, exec: &Res) -> Value {
    let mut v = exec.render(ctx.now);
    let state = exec.state(ctx.now).unwrap_or("ACCEPTED").to_string();
    let delivery = match state.as_str() {
        "ACCEPTED" => "VISIBLE",
        "TIMED_OUT" => "EXPIRED",
        _ => "ACKED",
    };
    if let Some(o) = v.as_object_mut() {
        o.insert("deliveryState".into(), json!(delivery));
        if let Some(since) = exec.lc.since(ctx.now) {
            o.insert("timeUpdated".into(), time_value(since));
        }
        if !matches!(state.as_str(), "SUCCEEDED" | "FAILED") {
            o.insert(
                "content".into(),
                json!({"outputType": "TEXT", "exitCode": 0, "message": format!("Command is {state}")}),
            );
        }
    }
    v
}

/// GET /instanceAgentCommands/{id}/status?instanceId=
pub(crate) fn get_execution(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let instance = req.query_required("instanceId")?;
    let command = req.path("instanceAgentCommandId");
    let exec = ctx
        .st
        .get(kind::AGENT_EXECUTION, &execution_key(command, instance))
        .ok_or_else(|| {
            ApiError::not_found(format!("execution of command {command} on {instance}"))
        })?;
    Ok(Reply::resource(render_execution(ctx, exec)))
}

/// GET /instanceAgentCommandExecutions
pub(crate) fn list_executions(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let compartment = ctx.compartment_param(req)?;
    let instance = req.query_required("instanceId")?;
    let mut items: Vec<Value> = ctx
        .st
        .all(kind::AGENT_EXECUTION)
        .filter(|e| e.str("instanceId") == Some(instance))
        .filter(|e| {
            e.str("instanceAgentCommandId")
                .and_then(|c| ctx.st.get(kind::AGENT_COMMAND, c))
                .is_some_and(|c| c.str("compartmentId") == Some(compartment.as_str()))
        })
        .map(|e| render_execution(ctx, e))
        .collect();
    wire::filter_lifecycle(
        req,
        &mut items,
        &[
            "ACCEPTED",
            "IN_PROGRESS",
            "SUCCEEDED",
            "FAILED",
            "TIMED_OUT",
            "CANCELED",
        ],
    )?;
    wire::sort_items(req, &mut items, super::SORT_TIME_NAME)?;
    wire::list_reply(req, items)
}

/// GET /instanceagents/{instanceagentId}/plugins
pub(crate) fn list_plugins(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    ctx.compartment_param(req)?;
    let instance = ctx.get(kind::INSTANCE, req.path("instanceagentId"))?;
    let running = instance.state(ctx.now) == Some("RUNNING");
    let since = instance.lc.since(ctx.now).unwrap_or(ctx.now);
    let status_filter = req.query_enum(
        "status",
        &["RUNNING", "STOPPED", "NOT_SUPPORTED", "INVALID"],
    )?;
    let plugins = [
        ("Compute Instance Monitoring", true),
        ("Compute Instance Run Command", true),
        ("Custom Logs Monitoring", true),
        ("OS Management Hub Agent", true),
        ("Bastion", false),
        ("Vulnerability Scanning", false),
    ];
    let mut items: Vec<Value> = plugins
        .iter()
        .map(|(name, enabled)| {
            let status = match (running, enabled) {
                (_, false) => "STOPPED",
                (true, true) => "RUNNING",
                (false, true) => "STOPPED",
            };
            json!({"name": name, "status": status, "timeLastUpdatedUtc": time_value(since)})
        })
        .filter(|p| status_filter.is_none_or(|s| p["status"] == s))
        .filter(|p| req.query("name").is_none_or(|n| p["name"] == n))
        .collect();
    req.query_enum("sortBy", &["TIMECREATED", "DISPLAYNAME"])?;
    if req.query_enum("sortOrder", &["ASC", "DESC"])? == Some("DESC") {
        items.reverse();
    }
    wire::list_reply(req, items)
}
