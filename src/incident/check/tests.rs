use std::time::Duration;

use super::*;
use crate::incident::facts::Severity;

#[derive(serde::Deserialize)]
struct Wrap {
    #[serde(deserialize_with = "rule::de_checks")]
    checks: Vec<Check>,
}

fn parse(text: &str) -> Result<Vec<Check>, String> {
    toml::from_str::<Wrap>(text)
        .map(|w| w.checks)
        .map_err(|e| e.message().to_string())
}

#[test]
fn an_http_check_takes_defaults() {
    let checks = parse(
        "[[checks]]\nname = \"api\"\nevery = \"30s\"\ntarget = \"web[1-2]\"\n\
         http = { url = \"http://{address}:8080/health\" }\n",
    )
    .unwrap();
    let c = &checks[0];
    assert_eq!(c.every, Duration::from_secs(30));
    assert_eq!(c.severity, Severity::Warning);
    let Probe::Http(h) = &c.probe else {
        panic!("{c:?}")
    };
    assert_eq!(h.status, 200);
    assert_eq!(h.timeout, Duration::from_secs(5));
    assert_eq!(h.body_contains, None);
}

#[test]
fn an_action_check_keeps_its_params_as_text() {
    let checks = parse(
        "[[checks]]\nname = \"disk\"\nevery = \"1m\"\ntarget = \"all\"\nseverity = \"critical\"\n\
         action = \"disk-space\"\nparams = { max_percent = 90, path = \"/\" }\n",
    )
    .unwrap();
    let Probe::Action(a) = &checks[0].probe else {
        panic!("{:?}", checks[0])
    };
    assert_eq!(a.action, "disk-space");
    assert_eq!(a.params.get("max_percent").map(String::as_str), Some("90"));
}

#[test]
fn bad_checks_say_what_is_wrong() {
    let head = "[[checks]]\nname = \"c\"\ntarget = \"all\"\n";
    let cases = [
        (
            "every = \"500ms\"\nhttp = { url = \"http://x/\" }",
            "at least 1s",
        ),
        ("every = \"5s\"", "needs `http"),
        (
            "every = \"5s\"\naction = \"a\"\nhttp = { url = \"http://x/\" }",
            "both `http` and `action`",
        ),
        (
            "every = \"5s\"\nhttp = { url = \"http://{host}/\" }",
            "`{host}`",
        ),
        (
            "every = \"5s\"\nhttp = { url = \"ftp://{name}/\" }",
            "not http or https",
        ),
        (
            "every = \"5s\"\nhttp = { url = \"http://x/\", status = 42 }",
            "HTTP status",
        ),
        (
            "every = \"5s\"\nhttp = { url = \"http://x/\", timeout = \"10s\" }",
            "at most `every`",
        ),
        (
            "every = \"5s\"\nhttp = { url = \"http://x/\", method = \"POST\" }",
            "unknown field",
        ),
    ];
    for (rest, want) in cases {
        let err = parse(&format!("{head}{rest}\n")).unwrap_err();
        assert!(err.contains(want), "{rest}: {err}");
    }
    let err =
        parse("[[checks]]\nname = \"c\"\nevery = \"5s\"\ntarget = \"cpu>90\"\naction = \"a\"\n")
            .unwrap_err();
    assert!(err.contains("metric term"), "{err}");
    let twice = "[[checks]]\nname = \"c\"\nevery = \"5s\"\ntarget = \"all\"\naction = \"a\"\n";
    let err = parse(&format!("{twice}{twice}")).unwrap_err();
    assert!(err.contains("two checks are named `c`"), "{err}");
}

#[test]
fn urls_are_filled_per_host() {
    assert_eq!(
        url::for_host("http://{address}:8080/{name}", "web1", Some("10.0.0.1")),
        "http://10.0.0.1:8080/web1"
    );
    assert_eq!(
        url::for_host("http://{address}/", "web1", None),
        "http://web1/"
    );
}
