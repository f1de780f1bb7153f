//! Writing arguments for a POSIX shell and bodies as YAML for `gcloud ... import`.

use serde_json::Value;

/// Single-quotes an argument unless it only has characters the shell leaves alone; for
/// `--flag=value` only the value is quoted, which reads like hand-written gcloud.
pub fn sh_quote(a: &str) -> String {
    if let Some((flag, value)) = a.split_once('=')
        && flag.starts_with("--")
        && flag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return format!("{flag}={}", quote_word(value));
    }
    quote_word(a)
}

fn quote_word(a: &str) -> String {
    let plain = !a.is_empty()
        && a.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_=./:,@%+".contains(&b));
    if plain {
        a.to_string()
    } else {
        format!("'{}'", a.replace('\'', r"'\''"))
    }
}

/// Minimal block-style YAML for a JSON value; strings are written double-quoted (JSON escapes
/// are valid YAML), so nothing a user typed can change the structure.
pub fn to_yaml(v: &Value) -> String {
    let mut out = String::new();
    yaml(v, 0, &mut out);
    out
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::Object(o) if o.is_empty() => Some("{}".into()),
        Value::Array(a) if a.is_empty() => Some("[]".into()),
        Value::Object(_) | Value::Array(_) => None,
        other => Some(other.to_string()),
    }
}

fn yaml(v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(o) if !o.is_empty() => {
            for (k, val) in o {
                match scalar(val) {
                    Some(s) => out.push_str(&format!("{pad}{k}: {s}\n")),
                    None => {
                        out.push_str(&format!("{pad}{k}:\n"));
                        yaml(val, indent + 2, out);
                    }
                }
            }
        }
        Value::Array(a) if !a.is_empty() => {
            for item in a {
                match scalar(item) {
                    Some(s) => out.push_str(&format!("{pad}- {s}\n")),
                    None => {
                        let mut inner = String::new();
                        yaml(item, indent + 2, &mut inner);
                        // The first line of the nested block moves up behind the dash.
                        out.push_str(&format!("{pad}- {}", &inner[indent + 2..]));
                    }
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", scalar(other).unwrap_or_default())),
    }
}

/// A list separator for gcloud's `^DELIM^` escaping (`gcloud topic escaping`) that none of
/// `items` contains, so no key or value can split an item in two. `None` when the default comma
/// is safe.
pub fn list_delimiter(items: &[String]) -> Option<String> {
    let joined = items.concat();
    if !joined.contains(',') && !joined.starts_with('^') {
        return None;
    }
    const SINGLE: &[char] = &['|', '~', '#', ';', '!', '%', '+', '*', '&', '$', '@', ':'];
    if let Some(c) = SINGLE.iter().find(|c| !joined.contains(**c)) {
        return Some(c.to_string());
    }
    // Every single character is taken: a run of `|` longer than any in the values is not.
    let mut d = String::from("||");
    while joined.contains(&d) {
        d.push('|');
    }
    Some(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_of_nested_values() {
        let y = to_yaml(&json!({"a": [{"b": 1, "c": ["x"]}, 2], "d": {}, "e": "it's \"q\""}));
        assert_eq!(
            y,
            "a:\n  - b: 1\n    c:\n      - \"x\"\n  - 2\nd: {}\ne: \"it's \\\"q\\\"\"\n"
        );
    }

    #[test]
    fn quoting() {
        assert_eq!(sh_quote("--x=a,b"), "--x=a,b");
        assert_eq!(sh_quote("Host: a"), "'Host: a'");
        assert_eq!(sh_quote("it's"), r"'it'\''s'");
        assert_eq!(sh_quote("--h=Host: a"), "--h='Host: a'");
    }

    #[test]
    fn delimiter_avoids_every_character_the_items_hold() {
        assert_eq!(list_delimiter(&["A=1".into(), "B=x@y".into()]), None);
        assert_eq!(
            list_delimiter(&["A=1,2".into(), "B=a|b@c".into()]).as_deref(),
            Some("~")
        );
        let all: String = "|~#;!%+*&$@:,".into();
        assert_eq!(
            list_delimiter(std::slice::from_ref(&all)).as_deref(),
            Some("||")
        );
        assert_eq!(
            list_delimiter(&[format!("{all}||")]).as_deref(),
            Some("|||")
        );
    }
}
