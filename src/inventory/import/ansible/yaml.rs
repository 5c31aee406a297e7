//! Ansible's YAML inventory format:
//! `all: {hosts: {NAME: {VAR: VALUE}}, vars: {…}, children: {GROUP: {hosts, vars, children}}}`.
//!
//! The document is read with serde seeds that fill the [`Model`] as they go, so every problem
//! (a list where a mapping belongs, a bad host range, a bad port, a group loop) is reported by
//! serde_yaml_ng at its line and column.

use std::fmt;
use std::path::Path;

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, IgnoredAny, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};

use super::{Model, Value, Var, is_template, pattern};
use crate::inventory::import::ImportError;

pub(super) fn parse(path: &Path, text: &str, model: &mut Model) -> Result<(), ImportError> {
    let de = serde_yaml_ng::Deserializer::from_str(text);
    Doc { model }.deserialize(de).map_err(|e| to_error(path, e))
}

fn to_error(path: &Path, e: serde_yaml_ng::Error) -> ImportError {
    let msg = e.to_string();
    match e.location() {
        Some(loc) => {
            let here = format!(" at line {} column {}", loc.line(), loc.column());
            ImportError::syntax(path, loc.line(), loc.column(), msg.replacen(&here, "", 1))
        }
        None => ImportError::invalid(path, msg),
    }
}

/// A mapping key or scalar used as a name: strings, and numbers or booleans spelled as text.
struct Name;

impl<'de> DeserializeSeed<'de> for Name {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        d.deserialize_any(NameVisitor)
    }
}

struct NameVisitor;

impl Visitor<'_> for NameVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a name")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }
}

/// The document: top-level groups (usually just `all`).
struct Doc<'m> {
    model: &'m mut Model,
}

impl<'de> DeserializeSeed<'de> for Doc<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Doc<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an inventory: a mapping of groups, usually `all:`")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(name) = map.next_key_seed(Name)? {
            let g = self.model.group(&name);
            self.model.define(g);
            map.next_value_seed(Group {
                model: &mut *self.model,
                group: g,
            })?;
        }
        Ok(())
    }
}

/// One group's `hosts`, `vars` and `children`.
struct Group<'m> {
    model: &'m mut Model,
    group: usize,
}

impl<'de> DeserializeSeed<'de> for Group<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Group<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a group: a mapping with `hosts`, `vars` and/or `children`")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let g = self.group;
        while let Some(key) = map.next_key_seed(Name)? {
            let model = &mut *self.model;
            match key.as_str() {
                "hosts" => map.next_value_seed(Hosts { model, group: g })?,
                "vars" => map.next_value_seed(Vars {
                    model,
                    target: Target::Group(g),
                })?,
                "children" => map.next_value_seed(Children { model, parent: g })?,
                other => {
                    map.next_value::<IgnoredAny>()?;
                    let msg = format!(
                        "group `{}`: unexpected key `{other}` ignored (only hosts, vars and \
                         children are valid)",
                        model.groups[g].name
                    );
                    model.warnings.push(msg);
                }
            }
        }
        Ok(())
    }
}

/// `hosts:` — host patterns, each with its variables (or nothing).
struct Hosts<'m> {
    model: &'m mut Model,
    group: usize,
}

impl<'de> DeserializeSeed<'de> for Hosts<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Hosts<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a mapping of host names (`web01:` or `web01: {ansible_host: …}`)")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(hosts) = map.next_key_seed(HostKey {
            model: &mut *self.model,
            group: self.group,
        })? {
            map.next_value_seed(Vars {
                model: &mut *self.model,
                target: Target::Hosts(hosts),
            })?;
        }
        Ok(())
    }
}

/// A host pattern key: expanded and added to the group, errors at the key.
struct HostKey<'m> {
    model: &'m mut Model,
    group: usize,
}

impl<'de> DeserializeSeed<'de> for HostKey<'_> {
    type Value = Vec<usize>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<usize>, D::Error> {
        d.deserialize_any(self)
    }
}

impl HostKey<'_> {
    fn add<E: de::Error>(self, text: &str) -> Result<Vec<usize>, E> {
        let p =
            pattern::parse(text).map_err(|e| E::custom(format!("host `{text}`: {}", e.message)))?;
        let mut ids = Vec::with_capacity(p.names.len());
        for name in &p.names {
            let h = self.model.host(name, self.group);
            if let Some(port) = p.port {
                self.model
                    .set_host_var(h, "ansible_port", Var::text(port.to_string(), None));
            }
            ids.push(h);
        }
        Ok(ids)
    }
}

impl Visitor<'_> for HostKey<'_> {
    type Value = Vec<usize>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a host name")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<usize>, E> {
        self.add(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Vec<usize>, E> {
        self.add(&v.to_string())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Vec<usize>, E> {
        self.add(&v.to_string())
    }
}

/// `children:` — child groups, each a group body.
struct Children<'m> {
    model: &'m mut Model,
    parent: usize,
}

impl<'de> DeserializeSeed<'de> for Children<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Children<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a mapping of child groups")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(child) = map.next_key_seed(ChildKey {
            model: &mut *self.model,
            parent: self.parent,
        })? {
            map.next_value_seed(Group {
                model: &mut *self.model,
                group: child,
            })?;
        }
        Ok(())
    }
}

/// A child group name: linked to its parent, a loop reported at the key.
struct ChildKey<'m> {
    model: &'m mut Model,
    parent: usize,
}

impl<'de> DeserializeSeed<'de> for ChildKey<'_> {
    type Value = usize;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
        let name = Name.deserialize(d)?;
        let g = self.model.group(&name);
        self.model.define(g);
        self.model
            .add_child(self.parent, g)
            .map_err(de::Error::custom)?;
        Ok(g)
    }
}

enum Target {
    Group(usize),
    Hosts(Vec<usize>),
}

/// A variables mapping (or nothing), stored on a group or on hosts. `<<` merge keys apply.
struct Vars<'m> {
    model: &'m mut Model,
    target: Target,
}

impl<'de> DeserializeSeed<'de> for Vars<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl Vars<'_> {
    fn store(self, vars: Vec<(String, Var)>) {
        for (key, var) in vars {
            match &self.target {
                Target::Group(g) => self.model.set_group_var(*g, &key, var),
                Target::Hosts(hs) => {
                    for &h in hs {
                        self.model.set_host_var(h, &key, var.clone());
                    }
                }
            }
        }
    }
}

impl<'de> Visitor<'de> for Vars<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a mapping of variables")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut merged = Vec::new();
        let mut own = Vec::new();
        while let Some(key) = map.next_key_seed(Name)? {
            if key == "<<" {
                let v: serde_yaml_ng::Value = map.next_value()?;
                merge_into(&mut merged, v).map_err(de::Error::custom)?;
                continue;
            }
            let value = map.next_value_seed(VarValue { key: &key })?;
            own.push((key, Var { value, place: None }));
        }
        // Keys written in the mapping beat merged ones, wherever the `<<` stands.
        merged.retain(|(k, _)| !own.iter().any(|(o, _)| o == k));
        merged.extend(own);
        self.store(merged);
        Ok(())
    }
}

fn merge_into(out: &mut Vec<(String, Var)>, v: serde_yaml_ng::Value) -> Result<(), String> {
    use serde_yaml_ng::Value as Y;
    match v {
        Y::Mapping(m) => {
            for (k, v) in m {
                let key = match k {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    _ => return Err("merge key: variable names must be scalars".into()),
                };
                if !out.iter().any(|(o, _)| *o == key) {
                    out.push((
                        key,
                        Var {
                            value: from_yaml(v),
                            place: None,
                        },
                    ));
                }
            }
            Ok(())
        }
        // Earlier mappings in a `<<: [*a, *b]` list win.
        Y::Sequence(items) => items.into_iter().try_for_each(|m| merge_into(out, m)),
        _ => Err("`<<` expects a mapping or a list of mappings".into()),
    }
}

fn from_yaml(v: serde_yaml_ng::Value) -> Value {
    use serde_yaml_ng::Value as Y;
    match v {
        Y::String(s) => Value::Text(s),
        Y::Number(n) => Value::Text(n.to_string()),
        Y::Bool(b) => Value::Text(b.to_string()),
        Y::Null => Value::Unusable("null".into()),
        Y::Sequence(_) => Value::Unusable("a list".into()),
        Y::Mapping(_) => Value::Unusable("a mapping".into()),
        Y::Tagged(t) => Value::Unusable(tagged(&t.tag.to_string())),
    }
}

fn tagged(tag: &str) -> String {
    if tag.trim_start_matches('!') == "vault" {
        "vault-encrypted".into()
    } else {
        format!("a tagged value ({tag})")
    }
}

/// One variable value; a literal `ansible_port` that is not a port is an error here, at it.
struct VarValue<'k> {
    key: &'k str,
}

impl<'de> DeserializeSeed<'de> for VarValue<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl VarValue<'_> {
    fn text<E: de::Error>(self, s: String) -> Result<Value, E> {
        if matches!(self.key, "ansible_port" | "ansible_ssh_port") && !is_template(&s) {
            pattern::parse_port(&s).map_err(|m| E::custom(format!("{}: {m}", self.key)))?;
        }
        Ok(Value::Text(s))
    }
}

impl<'de> Visitor<'de> for VarValue<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a variable value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        self.text(v.to_string())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        self.text(v.to_string())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        self.text(v.to_string())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        self.text(v.to_string())
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        self.text(v.to_string())
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Unusable("null".into()))
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Unusable("null".into()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Value::Unusable("a list".into()))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Value::Unusable("a mapping".into()))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Value, A::Error> {
        let (tag, variant): (String, _) = data.variant()?;
        variant.newtype_variant::<IgnoredAny>()?;
        Ok(Value::Unusable(tagged(&tag)))
    }
}
