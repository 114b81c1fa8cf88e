//! Property tests of the spec loader: no input, however broken, makes it panic, and every
//! error it reports is located. `PROPTEST_CASES=100000` runs a longer campaign.

use proptest::prelude::*;

const SEED: &str = include_str!("../../specs/lago-customers.yaml");

fn check_located(text: &str) {
    if let Err(diags) = naftiko_codegen::generate_str("fuzz.yaml", text.to_owned()) {
        for d in diags.iter() {
            assert!(
                d.pos.is_some() || d.message.starts_with("internal"),
                "unlocated: {d}"
            );
            let _ = d.to_string();
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text(text in "\\PC{0,400}") {
        check_located(&text);
    }

    #[test]
    fn yaml_shaped_text(text in "([a-zA-Z{}\\[\\]:,.$ '\"-]{0,12}\n){0,30}") {
        check_located(&text);
    }

    #[test]
    fn seed_with_a_line_replaced(line in 0usize..420, junk in "[ a-zA-Z0-9:{}\\[\\]$.'\"#&*!|>-]{0,30}") {
        let mut lines: Vec<&str> = SEED.lines().collect();
        if line < lines.len() {
            lines[line] = &junk;
        }
        check_located(&lines.join("\n"));
    }

    #[test]
    fn seed_with_a_value_changed(line in 0usize..420, value in "[a-zA-Z0-9{}._$ -]{0,20}") {
        let text: String = SEED
            .lines()
            .enumerate()
            .map(|(i, l)| match (i == line, l.split_once(": ")) {
                (true, Some((k, _))) => format!("{k}: {value}\n"),
                _ => format!("{l}\n"),
            })
            .collect();
        check_located(&text);
    }
}
