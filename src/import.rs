//! Reading event files: one JSON event, a JSON array of events, or NDJSON (one event per line).
//!
//! Each event's bytes are kept exactly as they stand in the file. Lines that are not JSON are still
//! events: they are stored as rejected with their reason, never skipped.

use crate::model::Provider;
use crate::providers::{self, Parsed};
use crate::store::{Incoming, IngestReport, NewFile, Store};
use anyhow::{Context, Result};
use serde_json::value::RawValue;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::time::{Duration, Instant};

/// Events parsed and handed to the store at a time: bounds what is held in memory.
pub const BATCH: usize = 10_000;

/// Events per transaction: each conversation's list columns are computed and its contact fields
/// written once per transaction, so larger transactions do less of that work. Since the full-text
/// entries are written in row-id order, 200,000 measured faster than 50,000 (edits to a million
/// messages 12,500 → 15,000-16,800 events/s; new messages into it gain as well); the WAL then
/// grows to about 700 MB before its checkpoint.
pub const PER_TRANSACTION: usize = 200_000;

/// What an import did and how fast.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct ImportSummary {
    #[serde(flatten)]
    pub report: IngestReport,
    pub seconds: f64,
    pub events_per_second: f64,
}

/// Import each source (`-` is standard input) into the database at `db`. A database that does not
/// exist yet is built whole and then put in place (`NewFile`); into one that exists, the events are
/// committed every `PER_TRANSACTION`.
pub fn import_into(
    db: &Path,
    sources: &[String],
    provider: Option<Provider>,
    source_tag: &str,
) -> Result<ImportSummary> {
    let started = Instant::now();
    let report = if db.exists() {
        import(&mut Store::open(db)?, sources, provider, source_tag)?
    } else {
        let mut building = NewFile::start(db)?;
        let report = import(building.store(), sources, provider, source_tag).map_err(|e| building.failed(e))?;
        building.publish()?;
        report
    };
    let seconds = started.elapsed().max(Duration::from_micros(1)).as_secs_f64();
    Ok(ImportSummary {
        report,
        seconds,
        events_per_second: report.total() as f64 / seconds,
    })
}

/// Import each source into the store.
///
/// Reading and parsing run on their own thread, a batch ahead of the store, so they overlap the
/// commits' disk waits. Checkpoints are SQLite's automatic ones: deferring them to the end, or
/// to a thread of their own, measured slower.
fn import(store: &mut Store, sources: &[String], provider: Option<Provider>, source_tag: &str) -> Result<IngestReport> {
    store.use_bulk_cache()?;
    let (tx, rx) = std::sync::mpsc::sync_channel::<(Vec<Incoming>, Vec<Parsed>)>(1);
    let sources = sources.to_vec();
    let reader = std::thread::Builder::new()
        .name("import-read".into())
        .spawn(move || -> Result<()> {
            let mut batch: Vec<Incoming> = Vec::with_capacity(BATCH);
            let send = |batch: &mut Vec<Incoming>| -> Result<()> {
                if !batch.is_empty() {
                    let mut items = std::mem::take(batch);
                    let parsed = items
                        .iter_mut()
                        .map(|i| {
                            // Compressed here, so that the store's thread does not.
                            i.pack_ahead();
                            providers::parse(i.body(), i.provider.clone())
                        })
                        .collect();
                    tx.send((items, parsed))
                        .map_err(|_| anyhow::anyhow!("the store stopped"))?;
                }
                Ok(())
            };
            for name in &sources {
                let input: Box<dyn Read> = if name == "-" {
                    Box::new(std::io::stdin().lock())
                } else {
                    Box::new(std::fs::File::open(name).with_context(|| format!("cannot read {name}"))?)
                };
                let mut sink = |body: Vec<u8>| -> Result<()> {
                    batch.push(Incoming::new(body, provider.clone()));
                    if batch.len() >= BATCH {
                        send(&mut batch)?;
                    }
                    Ok(())
                };
                read_events(BufReader::with_capacity(1 << 20, input), &mut sink)
                    .with_context(|| format!("cannot read {name}"))?;
            }
            send(&mut batch)
        })?;
    // On an error the receiver is dropped, which stops the reader.
    let stored = store.ingest_chunks(source_tag, rx, PER_TRANSACTION);
    let read = reader
        .join()
        .map_err(|_| anyhow::anyhow!("the import reader panicked"))?;
    let total = stored?;
    read?;
    Ok(total)
}

/// Split a stream into event bodies and hand each to `sink`, in order.
pub fn read_events<R: BufRead>(mut reader: R, sink: &mut dyn FnMut(Vec<u8>) -> Result<()>) -> Result<()> {
    let first = match first_significant_byte(&mut reader)? {
        None => return Ok(()),
        Some(b) => b,
    };
    if first == b'[' {
        // An array is read whole; each element's bytes are sliced out of the file as they stand.
        let mut all = Vec::new();
        reader.read_to_end(&mut all)?;
        match serde_json::from_slice::<Vec<&RawValue>>(&all) {
            Ok(items) => {
                for item in items {
                    sink(item.get().as_bytes().to_vec())?;
                }
            }
            // Not a valid array: the whole file is one bad body, kept as it is.
            Err(_) => sink(all)?,
        }
        return Ok(());
    }
    // NDJSON, or one event spread over several lines. The first line decides: if it is a complete
    // JSON value, every line is an event.
    let mut line = Vec::new();
    reader.read_until(b'\n', &mut line)?;
    if serde_json::from_slice::<&RawValue>(trim(&line)).is_ok() {
        sink(trim(&line).to_vec())?;
        return for_each_line(reader, sink);
    }
    let mut all = line;
    reader.read_to_end(&mut all)?;
    if serde_json::from_slice::<&RawValue>(trim(&all)).is_ok() || !all.contains(&b'\n') {
        return sink(trim(&all).to_vec());
    }
    // Neither one value nor lines of values: lines, if some of them parse; else one bad body.
    let lines: Vec<&[u8]> = all.split(|&b| b == b'\n').map(trim).filter(|l| !l.is_empty()).collect();
    if lines.iter().any(|l| serde_json::from_slice::<&RawValue>(l).is_ok()) {
        for l in lines {
            sink(l.to_vec())?;
        }
        Ok(())
    } else {
        sink(trim(&all).to_vec())
    }
}

fn for_each_line<R: BufRead>(mut reader: R, sink: &mut dyn FnMut(Vec<u8>) -> Result<()>) -> Result<()> {
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        let t = trim(&line);
        if !t.is_empty() {
            sink(t.to_vec())?;
        }
    }
}

/// Skip leading whitespace and a UTF-8 byte-order mark; peek the next byte.
fn first_significant_byte<R: BufRead>(reader: &mut R) -> Result<Option<u8>> {
    loop {
        let buf = reader.fill_buf()?;
        let Some(&b) = buf.first() else { return Ok(None) };
        if buf.starts_with(&[0xEF, 0xBB, 0xBF]) {
            reader.consume(3);
        } else if b.is_ascii_whitespace() {
            reader.consume(1);
        } else {
            return Ok(Some(b));
        }
    }
}

/// Line ends and surrounding blanks are not part of an event.
fn trim(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &b[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(input: &str) -> Vec<String> {
        let mut out = vec![];
        read_events(input.as_bytes(), &mut |b| {
            out.push(String::from_utf8(b).unwrap());
            Ok(())
        })
        .unwrap();
        out
    }

    #[test]
    fn one_event_array_and_ndjson() {
        assert_eq!(split("{\n  \"a\": 1\n}\n"), vec!["{\n  \"a\": 1\n}"]);
        assert_eq!(split("[ {\"a\":1}, {\"b\" : 2} ]"), vec!["{\"a\":1}", "{\"b\" : 2}"]);
        assert_eq!(split("{\"a\":1}\r\n\n{\"b\":2}\n"), vec!["{\"a\":1}", "{\"b\":2}"]);
    }

    #[test]
    fn bad_lines_are_events_too() {
        assert_eq!(
            split("{\"a\":1}\nnot json\n{\"b\":2}"),
            vec!["{\"a\":1}", "not json", "{\"b\":2}"]
        );
        assert_eq!(split("not json\n{\"b\":2}"), vec!["not json", "{\"b\":2}"]);
        assert_eq!(split("garbage\nmore garbage"), vec!["garbage\nmore garbage"]);
        assert_eq!(split("[1, 2"), vec!["[1, 2"]);
        assert!(split("  \n ").is_empty());
    }
}
