//! The receiver's two steps. `append_parsed` puts new events in the log and commits with the fsync
//! the vendor's acknowledgement promises; `fold_appended` folds them into conversations right
//! behind, in larger batches and without an fsync of its own (the next append's carries it). An
//! event appended and not yet folded is listed in `unfolded`, in the append's transaction, and
//! leaves it in the fold's: after a crash between the two, `fold_unfolded` at the next start folds
//! exactly what was left, once.

use super::{Incoming, IngestReport, Store, Stored, fold, outbox_table};
use crate::model::Provider;
use crate::providers::{self, Outcome, Parsed};
use anyhow::{Context, Result};
use rusqlite::TransactionBehavior;

/// An appended event waiting for its fold.
pub struct Appended {
    pub event_id: i64,
    pub parsed: Parsed,
}

impl Store {
    /// Store each new body in the log (a known dedupe key is a duplicate, and changes nothing),
    /// durably, without folding. New `ok` events come back to be folded.
    pub fn append_parsed(
        &mut self,
        source: &str,
        items: &[Incoming],
        parsed: Vec<Parsed>,
    ) -> Result<(IngestReport, Vec<Stored>, Vec<Appended>)> {
        let now = chrono::Utc::now().timestamp_millis();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut report = IngestReport::default();
        let mut results = Vec::with_capacity(items.len());
        let mut appended = Vec::new();
        {
            let mut insert = tx.prepare_cached(super::INSERT_EVENT)?;
            let mut list = tx.prepare_cached("INSERT INTO unfolded (event_id) VALUES (?1)")?;
            for (item, p) in items.iter().zip(parsed) {
                let n = super::insert_event(&mut insert, now, source, &p, &item.body, item.packed.as_ref())?;
                let stored = if n == 0 {
                    Stored::Duplicate
                } else {
                    match &p.outcome {
                        Outcome::Ok(_) => {
                            let event_id = tx.last_insert_rowid();
                            list.execute([event_id])?;
                            appended.push(Appended { event_id, parsed: p });
                            Stored::Ok
                        }
                        Outcome::Ignored(_) => Stored::Ignored,
                        Outcome::Rejected(_) => Stored::Rejected,
                    }
                };
                report.count(stored);
                results.push(stored);
            }
        }
        tx.commit().context("cannot commit to the database")?;
        Ok((report, results, appended))
    }

    /// Fold appended events (in the order given) and take them off `unfolded`, in one
    /// transaction committed without an fsync of its own: lost in a crash, it is done again.
    pub fn fold_appended(&mut self, events: &[Appended]) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let synchronous: i64 = self.conn.query_row("PRAGMA synchronous", [], |r| r.get(0))?;
        self.conn.pragma_update(None, "synchronous", "normal")?;
        let folded = (|| -> Result<()> {
            let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut batch = fold::Batch::default();
            {
                let mut unlist = tx.prepare_cached("DELETE FROM unfolded WHERE event_id = ?1")?;
                for e in events {
                    // Listed only until folded: a second fold of the same event does nothing.
                    if unlist.execute([e.event_id])? == 0 {
                        continue;
                    }
                    if let Outcome::Ok(changes) = &e.parsed.outcome {
                        fold::fold_event(&tx, e.event_id, &e.parsed, changes, &mut batch)?;
                    }
                }
            }
            if outbox_table::reconcile(&tx, events.iter().map(|e| &e.parsed))? {
                batch.recount_touched();
            }
            batch.finish(&tx)?;
            tx.commit().context("cannot commit to the database")?;
            Ok(())
        })();
        self.conn.pragma_update(None, "synchronous", synchronous)?;
        folded
    }

    /// Whether any appended event waits for its fold.
    pub fn has_unfolded(&self) -> Result<bool> {
        Ok(self
            .conn
            .query_row("SELECT EXISTS (SELECT 1 FROM unfolded)", [], |r| r.get(0))?)
    }

    /// How many appended events wait for their fold.
    pub fn unfolded_count(&self) -> Result<i64> {
        Ok(self.conn.query_row("SELECT count(*) FROM unfolded", [], |r| r.get(0))?)
    }

    /// Fold what was appended and never folded (the receiver stopped between the two); returns
    /// how many events.
    pub fn fold_unfolded(&mut self) -> Result<usize> {
        let mut done = 0;
        loop {
            let n = self.fold_unfolded_some(2000)?;
            if n == 0 {
                return Ok(done);
            }
            done += n;
        }
    }

    /// Fold the oldest `most` events of the unfolded list, in one transaction; returns how many
    /// were listed (0: none is left).
    pub fn fold_unfolded_some(&mut self, most: usize) -> Result<usize> {
        let batch: Vec<Appended> = {
            let mut q = self.conn.prepare_cached(
                "SELECT e.id, e.provider, e.body, e.body_codec FROM unfolded u JOIN events e ON e.id = u.event_id
                 ORDER BY u.event_id LIMIT ?1",
            )?;
            q.query_map([most as i64], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    super::body_codec::read(r, 3, 2)?,
                ))
            })?
            .map(|row| {
                let (event_id, provider, body) = row?;
                let forced = match Provider::parse(&provider) {
                    Provider::Unknown(_) => None,
                    p => Some(p),
                };
                Ok(Appended {
                    event_id,
                    parsed: providers::parse(&body, forced),
                })
            })
            .collect::<rusqlite::Result<_>>()?
        };
        self.fold_appended(&batch)?;
        Ok(batch.len())
    }
}
