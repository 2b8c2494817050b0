//! SQL alias switcher (templates/scripts/Update-SqlAlias.ps1).

/// What the alias switcher does in one run, as the script decides: keep the alias when the
/// partner it names answers as principal (exit 0); else switch to the first partner, in the
/// configured order, that answers as principal (also exit 0: the alias points at the principal);
/// else leave the alias as it is (exit 2, the only failure of the three).
/// `principal` is the partner that holds the principal role; `reachable[i]` whether partner i
/// answers the front end; `before` the partner the alias names (None: no alias yet).
/// Returns the partner the alias names afterwards and the exit code.
pub fn switcher(
    principal: usize,
    reachable: &[bool],
    before: Option<usize>,
) -> (Option<usize>, u8) {
    let answers_principal = |i: usize| i == principal && reachable.get(i).copied().unwrap_or(false);
    if let Some(b) = before {
        if answers_principal(b) {
            return (Some(b), 0);
        }
    }
    match (0..reachable.len()).find(|&i| answers_principal(i)) {
        Some(p) => (Some(p), 0),
        None => (before, 2),
    }
}

/// One row of the SQL alias table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlRow {
    pub principal: String,
    pub answering: String,
    /// One cell per "alias before" state: each partner, then "no alias".
    pub cells: Vec<String>,
}

/// The switcher's decision for every state: principal × which partners answer × alias before.
pub fn sql_table(partners: &[String]) -> (Vec<String>, Vec<SqlRow>) {
    let n = partners.len();
    let mut header: Vec<String> = partners.iter().map(|p| format!("alias was {p}")).collect();
    header.push("no alias yet".into());
    let mut rows = Vec::new();
    for principal in 0..n {
        for mask in (0..(1u32 << n)).rev() {
            let reachable: Vec<bool> = (0..n).map(|i| mask & (1 << (n - 1 - i)) != 0).collect();
            let answering: Vec<&str> = (0..n)
                .filter(|&i| reachable[i])
                .map(|i| partners[i].as_str())
                .collect();
            let befores: Vec<Option<usize>> = (0..n).map(Some).chain([None]).collect();
            let cells = befores
                .iter()
                .map(|&b| {
                    let (after, code) = switcher(principal, &reachable, b);
                    let name = |x: Option<usize>| {
                        x.map(|i| partners[i].clone())
                            .unwrap_or_else(|| "no alias".into())
                    };
                    match code {
                        0 if after == b => format!("stays {} (exit 0)", name(after)),
                        0 => format!("→ {} (exit 0)", name(after)),
                        _ => format!("stays {} (exit 2)", name(after)),
                    }
                })
                .collect();
            rows.push(SqlRow {
                principal: partners[principal].clone(),
                answering: if answering.is_empty() {
                    "none".into()
                } else {
                    answering.join(" + ")
                },
                cells,
            });
        }
    }
    (header, rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_switcher_decisions() {
        // Principal reachable: the alias ends on it, whatever it was.
        for principal in 0..2 {
            for before in [Some(0), Some(1), None] {
                let (after, code) = switcher(principal, &[true, true], before);
                assert_eq!(after, Some(principal));
                assert_eq!(code, 0, "unchanged and switched both exit 0");
            }
        }
        // Principal unreachable: never switch to the mirror.
        assert_eq!(switcher(0, &[false, true], Some(0)), (Some(0), 2));
        assert_eq!(switcher(0, &[false, true], Some(1)), (Some(1), 2));
        assert_eq!(switcher(1, &[false, false], None), (None, 2));
        let (h, rows) = sql_table(&["a".into(), "b".into()]);
        assert_eq!(h, vec!["alias was a", "alias was b", "no alias yet"]);
        assert_eq!(rows.len(), 8);
        assert_eq!(
            rows[0].cells,
            vec!["stays a (exit 0)", "→ a (exit 0)", "→ a (exit 0)"]
        );
    }
}
