//! Background sweeps that run once across the nodes sharing a database, not once per node:
//! each takes its lease row for one period (crate::db::nodes::take_lease), so the first node to
//! ask after the lease ran out runs it; a dead holder's lease simply runs out.

use std::time::Duration;

use crate::calls::recordings;
use crate::db::nodes as repo;
use crate::errors::DomainError;
use crate::state::AppState;

/// A sweep shared by the nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sweep {
    /// Calls that cannot be live any more (crate::calls::end_stale) and recordings past their
    /// retention.
    Stale,
    /// The live calls of nodes that stopped beating (super::liveness::fail_dead).
    DeadNodes,
}

impl Sweep {
    /// Every sweep, in the order a node runs them.
    pub const ALL: [Sweep; 2] = [Sweep::DeadNodes, Sweep::Stale];

    /// The key of its lease row.
    pub fn name(self) -> &'static str {
        match self {
            Self::Stale => "stale_calls",
            Self::DeadNodes => "dead_nodes",
        }
    }

    /// How often it runs, across all nodes.
    pub fn period(self) -> Duration {
        match self {
            Self::Stale => Duration::from_secs(30),
            // With a heartbeat every 10 s and death after 30 s, a dead node's calls fail within
            // about 45 s of its last beat.
            Self::DeadNodes => Duration::from_secs(10),
        }
    }
}

/// How often each node asks for the sweeps' leases.
pub const TICK: Duration = Duration::from_secs(3);

/// Runs `sweep` if no node holds its lease (taking it for one period): what it ended or
/// deleted, or `None` when another node runs it this period.
pub async fn run_if_due(state: &AppState, sweep: Sweep) -> Result<Option<usize>, DomainError> {
    let now = state.clock.now();
    let until = now + chrono::Duration::from_std(sweep.period()).unwrap_or(chrono::Duration::seconds(30));
    let (now, until) = (crate::clock::rfc3339(now), crate::clock::rfc3339(until));
    if !repo::take_lease(&state.db, sweep.name(), &state.node, &now, &until).await? {
        return Ok(None);
    }
    match sweep {
        Sweep::DeadNodes => super::liveness::fail_dead(state).await.map(Some),
        Sweep::Stale => {
            // Each half runs even when the other fails.
            let calls = crate::calls::end_stale(state).await;
            if let Ok(n @ 1..) = calls {
                tracing::info!(calls = n, "ended stale calls");
            }
            let files = recordings::sweep_expired(state).await;
            if let Ok(n @ 1..) = files {
                tracing::info!(recordings = n, "deleted recordings past their retention");
            }
            Ok(Some(calls? + files?))
        }
    }
}

/// Starts this node's heartbeat and its share of the sweeps, for as long as the process runs
/// (a node draining its calls at shutdown still beats, so the others leave its calls alone).
pub fn spawn(state: AppState) {
    let beating = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(super::liveness::HEARTBEAT);
        loop {
            tick.tick().await;
            if let Err(e) = super::liveness::beat(&beating).await {
                tracing::warn!(error = %e, "cannot record this node's heartbeat");
            }
        }
    });
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            for sweep in Sweep::ALL {
                if let Err(e) = run_if_due(&state, sweep).await {
                    tracing::warn!(sweep = sweep.name(), error = %e, "sweep failed");
                }
            }
        }
    });
}
