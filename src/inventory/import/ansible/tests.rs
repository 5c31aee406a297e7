use std::path::{Path, PathBuf};

use super::*;
use crate::inventory::import::test_support::{address, assert_round_trips, fixture, host, names};

fn ansible(rel: &str) -> PathBuf {
    fixture(&format!("ansible/{rel}"))
}

fn run(rel: &str) -> Imported {
    from_ansible(&ansible(rel)).unwrap_or_else(|e| panic!("{e}"))
}

fn err(rel: &str) -> String {
    from_ansible(&ansible(rel))
        .map(|_| ())
        .unwrap_err()
        .to_string()
}

/// Imports inventory text written to a temporary file with the given name.
fn run_text(file: &str, text: &str) -> Result<Imported, ImportError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(file);
    std::fs::write(&path, text).unwrap();
    from_ansible(&path)
}

fn var<'a>(h: &'a HostEntry, k: &str) -> Option<&'a str> {
    h.vars.get(k).map(String::as_str)
}

fn assert_warned(got: &Imported, needle: &str) {
    let all = got.warnings.join("\n");
    assert!(all.contains(needle), "missing {needle:?} in:\n{all}");
}

#[test]
fn ini_hosts_in_first_seen_order_with_ranges_expanded() {
    let got = run("hosts.ini");
    assert_eq!(
        names(&got.inventory),
        [
            "jumpbox",
            "web01",
            "web02",
            "web03",
            "web10",
            "db-a",
            "db-b",
            "db-c",
            "edge1.example.com",
            "edge5.example.com",
            "edge9.example.com",
            "control"
        ]
    );
    assert_round_trips(&got.inventory);
}

#[test]
fn ini_groups_include_parents_and_every_membership() {
    let got = run("hosts.ini");
    let inv = &got.inventory;
    assert_eq!(host(inv, "web01").groups, ["web", "db", "prod"]);
    assert_eq!(host(inv, "web02").groups, ["web", "prod"]);
    assert_eq!(host(inv, "db-b").groups, ["db", "prod"]);
    assert_eq!(host(inv, "edge5.example.com").groups, ["edge"]);
    assert!(
        host(inv, "jumpbox").groups.is_empty(),
        "ungrouped is not a group"
    );
}

#[test]
fn ini_connection_variables() {
    let got = run("hosts.ini");
    let inv = &got.inventory;
    let web10 = host(inv, "web10");
    assert_eq!(address(web10), Some("10.0.0.10"));
    assert_eq!(web10.port, Some(2222));
    assert_eq!(web10.user.as_deref(), Some("admin"));
    // Host vars beat group vars; group-level user applies to members.
    assert_eq!(host(inv, "web01").user.as_deref(), Some("deploy"));
    assert_eq!(host(inv, "db-a").user.as_deref(), Some("produser"));
    assert_eq!(address(host(inv, "db-a")), Some("10.0.1.1"));
    assert_eq!(host(inv, "jumpbox").user, None);
    // `host:port` in the pattern; `ansible_port=22` from all:vars is the default.
    assert_eq!(host(inv, "edge9.example.com").port, Some(2200));
    assert_eq!(host(inv, "jumpbox").port, None);
    assert_eq!(host(inv, "control").transport, Some(TransportKind::Local));
    // The ProxyCommand in prod's ansible_ssh_common_args gives the jump host.
    assert_eq!(
        host(inv, "db-c").jump.as_deref(),
        Some("ops@bastion.example.net")
    );
    assert_eq!(host(inv, "edge1.example.com").jump, None);
}

#[test]
fn ini_variable_precedence() {
    let got = run("hosts.ini");
    let inv = &got.inventory;
    let web01 = host(inv, "web01");
    assert_eq!(
        var(web01, "tier"),
        Some("child"),
        "child group beats parent"
    );
    assert_eq!(var(web01, "env_name"), Some("production"));
    assert_eq!(var(web01, "ntp"), Some("pool.ntp.org"));
    assert_eq!(var(web01, "owner"), Some("ops-team"));
    assert_eq!(var(host(inv, "db-a"), "tier"), Some("parent"));
    assert_eq!(var(host(inv, "jumpbox"), "tier"), Some("all"));
    let web10 = host(inv, "web10");
    assert_eq!(var(web10, "http_port"), Some("8080"));
    assert_eq!(var(web10, "motd"), Some("hello world"));
    // Connection settings and ignored ones are not copied into vars.
    for h in &inv.hosts {
        assert!(
            h.vars.keys().all(|k| !k.starts_with("ansible_")),
            "{:?}",
            h.vars
        );
        assert!(!h.vars.contains_key("db_password"));
    }
}

#[test]
fn ini_warnings_once_per_variable() {
    let got = run("hosts.ini");
    let key_file: Vec<_> = got
        .warnings
        .iter()
        .filter(|w| w.contains("`ansible_ssh_private_key_file`"))
        .collect();
    assert_eq!(key_file.len(), 1, "{:?}", got.warnings);
    let at = format!("{}:29:1: ignored variable", ansible("hosts.ini").display());
    assert!(key_file[0].starts_with(&at), "{}", key_file[0]);
    assert!(key_file[0].ends_with("(4 hosts)"), "{}", key_file[0]);
    assert_warned(&got, "`ansible_python_interpreter`");
    assert_warned(&got, "`db_password` looks like a secret");
    assert!(!got.warnings.iter().any(|w| w.contains("hunter2")));
}

#[test]
fn yaml_inventory() {
    let got = run("hosts.yml");
    let inv = &got.inventory;
    assert_eq!(
        names(inv),
        [
            "jumpbox", "web01", "web02", "web10", "db1", "stage1", "control"
        ]
    );
    let web01 = host(inv, "web01");
    assert_eq!(web01.groups, ["web", "prod", "db"]);
    assert_eq!(web01.user.as_deref(), Some("deploy"));
    assert_eq!(var(web01, "tier"), Some("child"));
    assert_eq!(var(web01, "http_port"), Some("8080"));
    assert_eq!(var(web01, "timezone"), Some("UTC"));
    assert_eq!(var(web01, "env_name"), Some("production"));
    assert_eq!(web01.jump.as_deref(), Some("ops@bastion.example.net"));
    let web10 = host(inv, "web10");
    assert_eq!(address(web10), Some("10.0.0.10"));
    assert_eq!(
        (web10.port, web10.user.as_deref()),
        (Some(2222), Some("admin"))
    );
    let db1 = host(inv, "db1");
    assert_eq!(db1.groups, ["prod", "db"]);
    assert_eq!(db1.user.as_deref(), Some("dbadmin"));
    assert_eq!(var(db1, "tier"), Some("parent"));
    assert_eq!(address(host(inv, "jumpbox")), Some("203.0.113.5"));
    assert_eq!(var(host(inv, "jumpbox"), "tier"), Some("all"));
    // `<<: *prod_vars` merges; the key written next to it wins.
    let stage1 = host(inv, "stage1");
    assert_eq!(var(stage1, "env_name"), Some("staging"));
    assert_eq!(var(stage1, "tier"), Some("parent"));
    assert_eq!(stage1.groups, ["staging"]);
    assert_eq!(host(inv, "control").transport, Some(TransportKind::Local));
    for needle in [
        "ignored variable `ansible_become`",
        "variable `ntp_servers` is a list",
        "variable `api_key` is vault-encrypted",
    ] {
        assert_warned(&got, needle);
    }
    assert_round_trips(inv);
}

#[test]
fn json_and_content_detection() {
    let got = run("hosts.json");
    assert_eq!(names(&got.inventory), ["w1", "w2"]);
    assert_eq!(host(&got.inventory, "w1").port, Some(2200));
    assert_eq!(names(&run("inventory").inventory), ["w1"]);
    assert_eq!(names(&run("inventory-yaml").inventory), ["y1"]);
    assert_eq!(detect(Path::new("x"), "web01:2222\n"), Format::Ini);
    assert_eq!(
        detect(Path::new("x"), "# c\nall:\n  hosts:\n"),
        Format::Yaml
    );
    assert_eq!(detect(Path::new("x"), "web01 a=b\n"), Format::Ini);
}

#[test]
fn ini_errors_have_positions() {
    let p = |rel: &str| ansible(rel).display().to_string();
    assert_eq!(
        err("errors/unclosed-section.ini"),
        format!(
            "{}:4:1: unclosed section header `[db`: missing `]`",
            p("errors/unclosed-section.ini")
        )
    );
    assert_eq!(
        err("errors/vars-without-host.ini"),
        format!(
            "{}:3:1: expected a host name before `ansible_user=deploy`",
            p("errors/vars-without-host.ini")
        )
    );
    let e = err("errors/bad-range.ini");
    assert!(
        e.starts_with(&format!("{}:3:4: ", p("errors/bad-range.ini"))),
        "{e}"
    );
    assert!(e.contains("same width"), "{e}");
    let e = err("errors/bad-port.ini");
    assert!(
        e.starts_with(&format!("{}:2:20: ", p("errors/bad-port.ini"))),
        "{e}"
    );
    let e = err("errors/no-equals.ini");
    assert!(
        e.starts_with(&format!(
            "{}:2:7: expected key=value",
            p("errors/no-equals.ini")
        )),
        "{e}"
    );
    let e = err("errors/cycle.ini");
    assert!(
        e.starts_with(&format!("{}:5:1: ", p("errors/cycle.ini"))),
        "{e}"
    );
    assert!(e.contains("loop"), "{e}");
    let e = err("errors/vars-no-equals.ini");
    assert!(
        e.starts_with(&format!(
            "{}:2:1: expected key=value",
            p("errors/vars-no-equals.ini")
        )),
        "{e}"
    );
    let e = run_text("h.ini", "[web servers]\n")
        .map(|_| ())
        .unwrap_err();
    assert_eq!(e.position(), Some((1, 1)));
    let e = run_text("h.ini", "[web:hosts:x]\n")
        .map(|_| ())
        .unwrap_err();
    assert!(e.to_string().contains("unknown type"), "{e}");
    let e = run_text("h.ini", "[web]\n  h1 a=\"open\n")
        .map(|_| ())
        .unwrap_err();
    assert_eq!(e.position(), Some((2, 8)));
}

#[test]
fn yaml_errors_have_positions() {
    let p = |rel: &str| ansible(rel).display().to_string();
    let e = err("errors/syntax.yml");
    assert!(
        e.starts_with(&format!("{}:6:", p("errors/syntax.yml"))),
        "{e}"
    );
    let e = err("errors/hosts-list.yml");
    assert!(
        e.starts_with(&format!("{}:5:9: ", p("errors/hosts-list.yml"))),
        "{e}"
    );
    assert!(e.contains("mapping of host names"), "{e}");
    let e = err("errors/bad-range.yml");
    assert!(
        e.starts_with(&format!("{}:6:9: ", p("errors/bad-range.yml"))),
        "{e}"
    );
    assert!(e.contains("backwards"), "{e}");
    let e = err("errors/bad-port.yml");
    assert!(
        e.starts_with(&format!("{}:4:21: ", p("errors/bad-port.yml"))),
        "{e}"
    );
    let e = err("errors/cycle.yml");
    assert!(
        e.starts_with(&format!("{}:7:13: ", p("errors/cycle.yml"))),
        "{e}"
    );
}

#[test]
fn ini_details() {
    let got = run_text(
        "inv",
        "top1\n[all]\nallhost\n[ungrouped]\nloner\n\
         [web]\n[2001:db8::1]:2200 role=v6\nweb-a:2201 ansible_port=2202\n\
         [web:children]\nmissing\n\
         [web:vars]\nnote = keep # this\nbad name=1\n",
    );
    let e = got.map(|_| ()).unwrap_err();
    assert_eq!(e.position(), Some((13, 1)), "{e}");

    let got = run_text(
        "inv",
        "top1\n[all]\nallhost\n[ungrouped]\nloner\n\
         [web]\n[2001:db8::1]:2200 role=v6\nweb-a:2201 ansible_port=2202\n\
         [web:children]\nmissing\n\
         [web:vars]\nnote = keep # this\nansible_host={{ inventory_hostname }}.example\n",
    )
    .unwrap();
    let inv = &got.inventory;
    assert_eq!(
        names(inv),
        ["top1", "allhost", "loner", "2001:db8::1", "web-a"]
    );
    assert!(host(inv, "allhost").groups.is_empty());
    let v6 = host(inv, "2001:db8::1");
    assert_eq!((v6.port, var(v6, "role")), (Some(2200), Some("v6")));
    assert_eq!(
        host(inv, "web-a").port,
        Some(2202),
        "explicit ansible_port beats host:port"
    );
    assert_eq!(var(host(inv, "web-a"), "note"), Some("keep # this"));
    assert_eq!(address(host(inv, "web-a")), None);
    assert_warned(&got, "keeps its `#` comment");
    assert_warned(
        &got,
        "group `missing` is listed as a child but never defined",
    );
    assert_warned(&got, "`ansible_host` uses a Jinja template");
}

#[test]
fn yaml_details() {
    let got = run_text(
        "inv.yaml",
        "all:\n  hosts:\n    1234:\n    h2:\n      ansible_ssh_host: 10.0.0.2\n      \
         ansible_ssh_user: legacy\n      ansible_ssh_port: 2022\n      enabled: true\n      \
         ratio: 1.5\n      nothing:\n  extra: 1\n",
    )
    .unwrap();
    let inv = &got.inventory;
    assert_eq!(names(inv), ["1234", "h2"]);
    let h2 = host(inv, "h2");
    assert_eq!(address(h2), Some("10.0.0.2"));
    assert_eq!((h2.port, h2.user.as_deref()), (Some(2022), Some("legacy")));
    assert_eq!(
        (var(h2, "enabled"), var(h2, "ratio")),
        (Some("true"), Some("1.5"))
    );
    assert_warned(&got, "variable `nothing` is null");
    assert_warned(&got, "unexpected key `extra`");

    let empty = run_text("inv.yml", "# nothing yet\n").unwrap();
    assert!(empty.inventory.hosts.is_empty());
    assert_warned(&empty, "no hosts found");
    let e = run_text("inv.yml", "- a\n- b\n").map(|_| ()).unwrap_err();
    assert_eq!(e.position(), Some((1, 1)), "{e}");
}

#[test]
fn ssh_args_give_the_jump_host() {
    assert_eq!(
        jump_from_ssh_args("-J bastion"),
        (Some("bastion".into()), false)
    );
    assert_eq!(
        jump_from_ssh_args("-o StrictHostKeyChecking=no -o ProxyJump=j1,j2"),
        (Some("j1,j2".into()), true)
    );
    assert_eq!(
        jump_from_ssh_args("-o 'ProxyCommand=ssh -p 2222 -l ops -qW %h:%p gw'"),
        (Some("ops@gw:2222".into()), false)
    );
    assert_eq!(
        jump_from_ssh_args("-o ProxyCommand='nc -x proxy %h %p'"),
        (None, true)
    );
}

#[test]
fn missing_file_is_an_io_error() {
    let e = from_ansible(Path::new("/nonexistent/hosts.ini"))
        .map(|_| ())
        .unwrap_err();
    assert!(matches!(e, ImportError::Io { .. }), "{e}");
}

#[test]
fn deeper_groups_win_and_siblings_follow_priority_then_name() {
    let text = "[a:children]\nb\n[b:children]\nc\n[c]\nh1\n[x]\nh1\n\
                [a:vars]\nv=a\nlvl=a\n[b:vars]\nv=b\n[c:vars]\nv=c\n[x:vars]\nlvl=x\n";
    let got = run_text("inv.ini", text).unwrap();
    let h1 = host(&got.inventory, "h1");
    assert_eq!(h1.groups, ["a", "b", "c", "x"]);
    assert_eq!(var(h1, "v"), Some("c"));
    // `a` and `x` are both at depth 1: the later name wins…
    assert_eq!(var(h1, "lvl"), Some("x"));
    // …unless ansible_group_priority says otherwise.
    let got = run_text(
        "inv.ini",
        &format!("{text}[a:vars]\nansible_group_priority=10\n"),
    )
    .unwrap();
    assert_eq!(var(host(&got.inventory, "h1"), "lvl"), Some("a"));
    assert!(
        got.warnings
            .iter()
            .all(|w| !w.contains("ansible_group_priority"))
    );
}
