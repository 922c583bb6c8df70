//! The printed table: one row per figure, ours beside the baseline of the same run.
#![allow(clippy::print_stdout, reason = "the bench's output is its report")]

/// One figure.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub(crate) figure: String,
    pub(crate) ours: String,
    pub(crate) baseline: String,
    pub(crate) ratio: String,
    pub(crate) target: String,
}

/// Everything measured so far, printed again as one table at the end.
#[derive(Debug, Default)]
pub(crate) struct Report {
    rows: Vec<Row>,
    notes: Vec<String>,
}

impl Report {
    /// Adds a row and prints it at once (a long run shows progress).
    pub(crate) fn row(&mut self, row: Row) {
        println!(
            "  {} | ours {} | baseline {} | {} | target {}",
            row.figure, row.ours, row.baseline, row.ratio, row.target
        );
        self.rows.push(row);
    }

    /// A line of context printed under the table.
    pub(crate) fn note(&mut self, note: impl Into<String>) {
        let note = note.into();
        println!("  note: {note}");
        self.notes.push(note);
    }

    pub(crate) fn section(&self, title: &str) {
        println!("\n== {title}");
    }

    pub(crate) fn print(&self) {
        println!("\n| figure | ours | baseline | ours/baseline | target |");
        println!("|---|---|---|---|---|");
        for r in &self.rows {
            println!(
                "| {} | {} | {} | {} | {} |",
                r.figure, r.ours, r.baseline, r.ratio, r.target
            );
        }
        if !self.notes.is_empty() {
            println!();
            for n in &self.notes {
                println!("- {n}");
            }
        }
    }
}

/// `ours / baseline` as "1.23×".
pub(crate) fn ratio(ours: f64, baseline: f64) -> String {
    if baseline == 0.0 {
        return "n/a".to_owned();
    }
    format!("{:.2}×", ours / baseline)
}

/// Prints a progress line.
pub(crate) fn progress(line: &str) {
    println!("  … {line}");
}
