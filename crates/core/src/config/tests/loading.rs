//! Loading: defaults, the TOML file, the environment, and errors naming the setting.

use std::fs;
use std::path::PathBuf;
use std::time::Duration;

use super::{env, toml_file};
use crate::config::*;

#[test]
fn defaults_are_usable() {
    let s = Settings::load(None, env(&[])).unwrap();
    assert_eq!(s.http.bind.to_string(), "127.0.0.1:8080");
    assert_eq!(s.http.public_url, "http://127.0.0.1:8080");
    assert_eq!(
        s.database.url,
        DatabaseKind::Sqlite(PathBuf::from("./data/portal.db"))
    );
    assert_eq!(s.environment, Environment::Development);
    assert_eq!(s.log.format, LogFormat::Pretty);
    assert_eq!(s.limits.body_limit_bytes, 1024 * 1024);
}

#[test]
fn env_overrides_file_overrides_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("portal.toml");
    fs::write(&path, "bind = \"0.0.0.0:9000\"\nrate_limit_api = 5\ncors_origins = [\"https://a.example\", \"https://b.example\"]\n").unwrap();
    let s = Settings::load(Some(&path), env(&[("PORTAL_RATE_LIMIT_API", "7")])).unwrap();
    assert_eq!(s.http.bind.port(), 9000);
    assert_eq!(s.http.public_url, "http://localhost:9000");
    assert_eq!(s.limits.rate_limit_api, 7);
    assert_eq!(
        s.http.cors_origins,
        vec!["https://a.example", "https://b.example"]
    );
}

#[test]
fn jobs_poll_interval_is_read_and_bounded() {
    let s = Settings::load(None, env(&[])).unwrap();
    assert_eq!(s.jobs.poll_interval, Duration::from_secs(1));
    let s = Settings::load(None, env(&[("PORTAL_JOBS_POLL_INTERVAL_MS", "250")])).unwrap();
    assert_eq!(s.jobs.poll_interval, Duration::from_millis(250));
    let err = Settings::load(None, env(&[("PORTAL_JOBS_POLL_INTERVAL_MS", "5")]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("PORTAL_JOBS_POLL_INTERVAL_MS"), "{err}");
}

#[test]
fn jobs_can_be_switched_off_per_replica() {
    assert!(Settings::load(None, env(&[])).unwrap().jobs.enabled);
    let s = Settings::load(None, env(&[("PORTAL_JOBS_ENABLED", "false")])).unwrap();
    assert!(!s.jobs.enabled);
    let err = Settings::load(None, env(&[("PORTAL_JOBS_ENABLED", "sometimes")]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("PORTAL_JOBS_ENABLED"), "{err}");
}

#[test]
fn unknown_file_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("portal.toml");
    fs::write(&path, "bnd = \"x\"\n").unwrap();
    let err = Settings::load(Some(&path), env(&[]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown setting \"bnd\""), "{err}");
}

#[test]
fn bad_values_name_the_setting() {
    for (k, v) in [
        ("PORTAL_BIND", "nope"),
        ("PORTAL_ENV", "staging"),
        ("PORTAL_RATE_LIMIT_API", "-1"),
        ("PORTAL_TRUSTED_PROXIES", "10.0.0.0/99"),
        ("PORTAL_DATABASE_URL", "mysql://x"),
        ("PORTAL_PUBLIC_URL", "ftp://x"),
        ("PORTAL_LOG_FORMAT", "xml"),
        ("PORTAL_SKIP_MIGRATIONS", "maybe"),
        ("PORTAL_SECRET_KEY", "short"),
    ] {
        let err = Settings::load(None, env(&[(k, v)]))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with(k), "{k}: {err}");
    }
}

#[test]
fn production_requires_secret_and_explicit_cors() {
    let err = Settings::load(None, env(&[("PORTAL_ENV", "production")])).unwrap_err();
    assert!(err.to_string().starts_with("PORTAL_SECRET_KEY"), "{err}");
    let key = "k".repeat(40);
    let err = Settings::load(
        None,
        env(&[("PORTAL_ENV", "production"), ("PORTAL_SECRET_KEY", &key)]),
    )
    .unwrap_err();
    assert!(err.to_string().starts_with("PORTAL_CORS_ORIGINS"), "{err}");
    let err = Settings::load(
        None,
        env(&[
            ("PORTAL_ENV", "production"),
            ("PORTAL_SECRET_KEY", &key),
            ("PORTAL_CORS_ORIGINS", "*"),
        ]),
    )
    .unwrap_err();
    assert!(err.to_string().contains("\"*\" is not allowed"), "{err}");
    let err = Settings::load(
        None,
        env(&[
            ("PORTAL_ENV", "production"),
            ("PORTAL_SECRET_KEY", &key),
            ("PORTAL_CORS_ORIGINS", "https://portal.example"),
        ]),
    )
    .unwrap_err();
    assert!(err.to_string().starts_with("PORTAL_CLOUD"), "{err}");
    let ok = Settings::load(
        None,
        env(&[
            ("PORTAL_ENV", "production"),
            ("PORTAL_SECRET_KEY", &key),
            ("PORTAL_CORS_ORIGINS", "https://portal.example"),
            ("PORTAL_CLOUD", "oci"),
        ]),
    )
    .unwrap();
    assert_eq!(ok.log.format, LogFormat::Json);
    assert_eq!(ok.cloud.mode, CloudMode::Oci);
}

#[test]
fn dev_secret_is_generated_once_with_private_mode() {
    let dir = tempfile::tempdir().unwrap();
    let s = Settings::load(
        None,
        env(&[("PORTAL_DATA_DIR", dir.path().to_str().unwrap())]),
    )
    .unwrap();
    let a = s.load_or_create_secret_key().unwrap();
    let b = s.load_or_create_secret_key().unwrap();
    assert_eq!(a.expose(), b.expose());
    assert_eq!(a.expose().len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(dir.path().join("secret-key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn ai_settings_default_to_no_model_and_name_bad_values() {
    let s = Settings::load(None, env(&[])).unwrap();
    assert_eq!(s.ai.provider, AiProviderKind::None);
    assert_eq!(s.ai.chat.max_rounds, 8);
    assert_eq!(s.ai.chat.turn_budget, Duration::from_secs(120));
    let s = Settings::load(
        None,
        env(&[
            ("PORTAL_AI_PROVIDER", "openai"),
            ("PORTAL_AI_MODEL", "gpt-4o-mini"),
            ("PORTAL_AI_BASE_URL", "http://127.0.0.1:11434/v1/"),
            ("PORTAL_AI_MODELS", "a, b,,c"),
        ]),
    )
    .unwrap();
    assert_eq!(s.ai.provider, AiProviderKind::OpenAi);
    assert_eq!(s.ai.base_url.as_deref(), Some("http://127.0.0.1:11434/v1"));
    assert_eq!(s.ai.extra_models, ["a", "b", "c"]);
    for (pairs, setting) in [
        (&[("PORTAL_AI_PROVIDER", "gpt")][..], "PORTAL_AI_PROVIDER"),
        (&[("PORTAL_AI_PROVIDER", "openai")][..], "PORTAL_AI_MODEL"),
        (
            &[
                ("PORTAL_AI_PROVIDER", "anthropic"),
                ("PORTAL_AI_MODEL", "m"),
            ][..],
            "PORTAL_AI_API_KEY",
        ),
        (
            &[("PORTAL_AI_BASE_URL", "ftp://x")][..],
            "PORTAL_AI_BASE_URL",
        ),
        (
            &[("PORTAL_CHAT_MAX_ROUNDS", "0")][..],
            "PORTAL_CHAT_MAX_ROUNDS",
        ),
        (
            &[("PORTAL_CHAT_TURN_SECS", "0")][..],
            "PORTAL_CHAT_TURN_SECS",
        ),
    ] {
        let err = Settings::load(None, env(pairs)).unwrap_err().to_string();
        assert!(err.contains(setting), "{err}");
    }
    let described = Settings::load(
        None,
        env(&[
            ("PORTAL_AI_PROVIDER", "anthropic"),
            ("PORTAL_AI_MODEL", "m"),
            ("PORTAL_AI_API_KEY", "sk-ant-secret"),
        ]),
    )
    .unwrap()
    .describe();
    assert!(!format!("{described:?}").contains("sk-ant-secret"));
}

#[test]
fn loading_nothing_gives_the_defaults_of_every_concern() {
    let loaded = Settings::load(None, env(&[])).unwrap();
    assert_eq!(loaded.describe(), Settings::default().describe());
    let d = Settings::default();
    assert_eq!(d.data_dir, PathBuf::from("./data"));
    assert_eq!(d.limits.rate_limit_api, 300);
    assert_eq!(d.limits.max_connections, 2048);
    assert_eq!(d.http.request_timeout, Duration::from_secs(30));
    assert_eq!(d.database.pool_max, 16);
    assert_eq!(d.database.check_interval, Duration::from_secs(1));
    assert_eq!(d.cloud.mode, CloudMode::Emulator);
    assert_eq!(d.cloud.oci_profile, "DEFAULT");
    assert_eq!(d.log.filter, "info");
    assert_eq!(d.ai.timeout, Duration::from_secs(60));
    assert_eq!(d.ai.chat.max_input_chars, 16_000);
    assert_eq!(d.ai.chat.history_messages, 40);
}

#[test]
fn toml_takes_nested_tables_and_the_flat_keys() {
    let (_dir, path) = toml_file(
        "log = \"warn\"\ncloud = \"none\"\nchat_max_rounds = 5\n\
         [http]\nbind = \"0.0.0.0:9000\"\ntrusted_proxies = [\"10.0.0.0/8\", \"192.0.2.1\"]\n\
         [limits]\nrate_limit_api = 5\nmax_streams = \"12\"\n\
         [database]\ncheck_interval_ms = 250\nskip_migrations = true\n\
         [ai]\nprovider = \"openai\"\nmodel = \"m\"\nmodels = [\"x\", \" \", \"y\"]\n\
         [ai.chat]\nturn_secs = 30\n",
    );
    let s = Settings::load(Some(&path), env(&[])).unwrap();
    assert_eq!(s.log.filter, "warn");
    assert_eq!(s.cloud.mode, CloudMode::None);
    assert_eq!(s.ai.chat.max_rounds, 5);
    assert_eq!(s.http.bind.port(), 9000);
    assert_eq!(s.http.trusted_proxies.len(), 2);
    assert_eq!(s.limits.rate_limit_api, 5);
    assert_eq!(s.limits.max_streams, 12);
    assert_eq!(s.database.check_interval, Duration::from_millis(250));
    assert!(s.database.skip_migrations);
    assert_eq!(s.ai.provider, AiProviderKind::OpenAi);
    assert_eq!(s.ai.extra_models, ["x", "y"]);
    assert_eq!(s.ai.chat.turn_budget, Duration::from_secs(30));
    let (_dir, path) = toml_file("[log]\nfilter = \"debug\"\nformat = \"json\"\n");
    let s = Settings::load(Some(&path), env(&[])).unwrap();
    assert_eq!(
        (s.log.filter.as_str(), s.log.format),
        ("debug", LogFormat::Json)
    );
}

#[test]
fn environment_wins_over_nested_toml() {
    let (_dir, path) =
        toml_file("[limits]\nrate_limit_api = 5\nrate_limit_chat = 6\n[ai.chat]\nmax_rounds = 3\n");
    let s = Settings::load(
        Some(&path),
        env(&[
            ("PORTAL_RATE_LIMIT_API", "7"),
            ("PORTAL_CHAT_MAX_ROUNDS", "9"),
            ("PORTAL_UNRELATED", "x"),
        ]),
    )
    .unwrap();
    assert_eq!(s.limits.rate_limit_api, 7);
    assert_eq!(s.limits.rate_limit_chat, 6, "the file still fills the rest");
    assert_eq!(s.ai.chat.max_rounds, 9);
}

#[test]
fn errors_name_the_key_or_variable_the_user_wrote() {
    for (text, setting) in [
        ("[limits]\nrate_limit_api = -1\n", "limits.rate_limit_api"),
        ("rate_limit_api = \"lots\"\n", "rate_limit_api"),
        ("[http]\nbind = 8080\n", "http.bind"),
        ("[http]\ncors_origins = [\"*\"]\n", "http.cors_origins"),
        ("[ai.chat]\nmax_rounds = 100\n", "ai.chat.max_rounds"),
        (
            "[database]\ncheck_interval_ms = 5\n",
            "database.check_interval_ms",
        ),
        ("[ai]\nprovider = \"openai\"\n", "PORTAL_AI_MODEL"),
    ] {
        let (_dir, path) = toml_file(text);
        let err = Settings::load(Some(&path), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with(&format!("{setting}: ")), "{text}: {err}");
    }
    let (_dir, path) = toml_file("[limits]\nrate_limit_api = 5\n");
    let err = Settings::load(Some(&path), env(&[("PORTAL_RATE_LIMIT_API", "lots")]))
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("PORTAL_RATE_LIMIT_API: "), "{err}");
    assert!(err.contains("\"lots\""), "{err}");
    let (_dir, path) = toml_file("[http]\nbnd = 1\n");
    let err = Settings::load(Some(&path), env(&[]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown setting \"http.bnd\""), "{err}");
}

#[test]
fn a_text_setting_takes_a_toml_number_as_written() {
    let (_dir, path) = toml_file("oci_profile = 2024\n[ai]\nmodel = 7\n");
    let s = Settings::load(Some(&path), env(&[])).unwrap();
    assert_eq!(s.cloud.oci_profile, "2024");
    assert_eq!(s.ai.model.as_deref(), Some("7"));
}

#[test]
fn the_otlp_endpoint_is_an_http_url_without_credentials() {
    for unset in [&[][..], &[("PORTAL_OTLP_ENDPOINT", "")][..]] {
        let s = Settings::load(None, env(unset)).unwrap();
        assert_eq!(s.log.otlp_traces_url(), None);
    }
    let s = Settings::load(
        None,
        env(&[("PORTAL_OTLP_ENDPOINT", "http://127.0.0.1:4318/")]),
    )
    .unwrap();
    assert_eq!(
        s.log.otlp_traces_url().as_deref(),
        Some("http://127.0.0.1:4318/v1/traces")
    );
    for bad in [
        "collector:4318",
        "ftp://collector",
        "http://user:token@collector:4318",
        "http://collector:4318?token=x",
    ] {
        let err = Settings::load(None, env(&[("PORTAL_OTLP_ENDPOINT", bad)]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("PORTAL_OTLP_ENDPOINT"), "{bad}: {err}");
    }
}
