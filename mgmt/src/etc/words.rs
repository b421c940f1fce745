//! Splitting a hostname.if line into ifconfig arguments.
//!
//! netstart hands each line to ifconfig through the shell, so words are
//! separated by blanks and an argument with blanks or a single quote must
//! be double quoted (hostname.if(5)). Anything else the shell would act
//! on (`$`, backquotes, `;`, `|`, `&`, redirections, backslashes) would
//! run or expand something at boot; pfd runs no shell, so such a
//! character is an error rather than a literal.

/// The words of `line`, or why it cannot be split.
pub fn split(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '"' => {
                in_word = true;
                let mut closed = false;
                for q in chars.by_ref() {
                    if q == '"' {
                        closed = true;
                        break;
                    }
                    check_shell(q, true)?;
                    cur.push(q);
                }
                if !closed {
                    return Err("unterminated double quote".into());
                }
            }
            '\'' => {
                return Err("a single quote must be inside double quotes".into());
            }
            _ => {
                check_shell(c, false)?;
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

fn check_shell(c: char, quoted: bool) -> Result<(), String> {
    let special = if quoted {
        matches!(c, '$' | '`' | '\\')
    } else {
        matches!(
            c,
            '$' | '`' | '\\' | ';' | '|' | '&' | '<' | '>' | '(' | ')' | '*' | '?' | '[' | '~'
        )
    };
    if special {
        Err(format!(
            "shell character `{c}` is not supported: pfd does not run hostname.if lines through a shell"
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn quotes_group_words() {
        assert_eq!(
            split("inet 10.0.0.1 255.255.255.0 description \"Bob's uplink\"").unwrap(),
            [
                "inet",
                "10.0.0.1",
                "255.255.255.0",
                "description",
                "Bob's uplink"
            ]
        );
        assert_eq!(split("  up\t").unwrap(), ["up"]);
        assert_eq!(split("description \"\"").unwrap(), ["description", ""]);
    }

    #[test]
    fn shell_syntax_is_refused() {
        assert_eq!(
            split("description \"x").unwrap_err(),
            "unterminated double quote"
        );
        assert!(split("description Bob's").is_err());
        assert!(split("description $(reboot)").is_err());
        assert!(split("description \"a `b`\"").is_err());
        assert!(split("up; reboot").is_err());
    }
}
