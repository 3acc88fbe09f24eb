//! Progress on a terminal (indicatif spinners and bars) or as plain lines when stderr is
//! not a terminal, behind the libraries' [`Progress`] trait.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use idferry_model::Progress;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

/// Progress for the current stderr.
pub struct Reporter {
    bars: Option<(MultiProgress, Mutex<HashMap<String, ProgressBar>>)>,
}

impl Reporter {
    /// Bars on a terminal, lines otherwise.
    pub fn new() -> Self {
        let bars = std::io::stderr()
            .is_terminal()
            .then(|| (MultiProgress::new(), Mutex::new(HashMap::new())));
        Self { bars }
    }

    fn bar(&self, what: &str) -> Option<ProgressBar> {
        let (_, bars) = self.bars.as_ref()?;
        bars.lock().ok()?.get(what).cloned()
    }
}

impl Progress for Reporter {
    fn start(&self, what: &str, total: Option<u64>) {
        let Some((multi, bars)) = &self.bars else {
            eprintln!("{what}: started");
            return;
        };
        let bar = match total {
            Some(n) => ProgressBar::new(n).with_style(
                ProgressStyle::with_template("{prefix:>24} [{bar:30}] {pos}/{len} {per_sec}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            ),
            None => ProgressBar::new_spinner().with_style(
                ProgressStyle::with_template("{prefix:>24} {spinner} {pos} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            ),
        };
        let bar = multi.add(bar.with_prefix(what.to_owned()));
        bar.enable_steady_tick(Duration::from_millis(120));
        if let Ok(mut bars) = bars.lock() {
            bars.insert(what.to_owned(), bar);
        }
    }

    fn advance(&self, what: &str, n: u64) {
        if let Some(bar) = self.bar(what) {
            bar.inc(n);
        }
    }

    fn finish(&self, what: &str) {
        match self.bar(what) {
            Some(bar) => bar.finish(),
            None if self.bars.is_none() => eprintln!("{what}: done"),
            None => {}
        }
    }

    fn message(&self, msg: &str) {
        match &self.bars {
            Some((multi, _)) => {
                let _ = multi.println(msg);
            }
            None => eprintln!("{msg}"),
        }
    }
}
