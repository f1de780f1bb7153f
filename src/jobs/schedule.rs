//! Which ready steps start first: those with the longest chain of dependents behind them.
//!
//! A job cannot end before its longest chain of dependent calls does (NEG → backend service →
//! URL map → proxy → forwarding rule), so a step on that chain that waits for a free slot
//! delays the whole job, while a step with nothing behind it (a certificate, the redirect URL
//! map) can run at any time before the end. When there are more ready steps than slots, the
//! long chains go first; ties keep the plan's order, so a job runs the same way every time.

use std::cmp::Reverse;

/// For every step, by position: how many steps the longest chain that starts with it holds, the
/// step itself included (1 for a step nothing depends on). `depends_on[i]` are the positions of
/// the steps step `i` waits for. A cycle (which a plan never makes) is cut where it closes.
pub fn chain_lengths(depends_on: &[Vec<usize>]) -> Vec<usize> {
    let n = depends_on.len();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (step, deps) in depends_on.iter().enumerate() {
        for &d in deps {
            if d < n {
                dependents[d].push(step);
            }
        }
    }
    let mut lengths = vec![0; n];
    let mut state = vec![Visit::New; n];
    for step in 0..n {
        length(step, &dependents, &mut lengths, &mut state);
    }
    lengths
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Visit {
    New,
    Open,
    Done,
}

fn length(
    step: usize,
    dependents: &[Vec<usize>],
    lengths: &mut [usize],
    state: &mut [Visit],
) -> usize {
    match state[step] {
        Visit::Done => return lengths[step],
        Visit::Open => return 0,
        Visit::New => {}
    }
    state[step] = Visit::Open;
    let mut longest = 0;
    for &next in &dependents[step] {
        longest = longest.max(length(next, dependents, lengths, state));
    }
    state[step] = Visit::Done;
    lengths[step] = longest + 1;
    lengths[step]
}

/// Up to `free` of the `ready` positions: the longest chains first, then plan order.
pub fn pick(mut ready: Vec<usize>, lengths: &[usize], free: usize) -> Vec<usize> {
    ready.sort_by_key(|&i| (Reverse(lengths.get(i).copied().unwrap_or(0)), i));
    ready.truncate(free);
    ready
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_count_the_steps_behind_each_step() {
        // 0 → 1 → 2, and 3 beside them; 4 waits for 0 and 3.
        let deps = vec![vec![], vec![0], vec![1], vec![], vec![0, 3]];
        assert_eq!(chain_lengths(&deps), vec![3, 2, 1, 2, 1]);
    }

    #[test]
    fn with_one_slot_the_long_chain_starts_before_many_short_steps() {
        // Ten independent steps in plan order first, then a chain of five at the end.
        let mut deps: Vec<Vec<usize>> = vec![Vec::new(); 10];
        deps.push(vec![]);
        for i in 11..15 {
            deps.push(vec![i - 1]);
        }
        let lengths = chain_lengths(&deps);
        assert_eq!(lengths[10], 5);
        let ready: Vec<usize> = (0..=10).collect();
        assert_eq!(pick(ready.clone(), &lengths, 1), vec![10]);
        assert_eq!(
            pick(ready, &lengths, 3),
            vec![10, 0, 1],
            "ties keep plan order"
        );
    }

    #[test]
    fn a_cycle_does_not_loop_forever() {
        let deps = vec![vec![1], vec![0], vec![]];
        let lengths = chain_lengths(&deps);
        assert!(lengths.iter().all(|l| *l >= 1), "{lengths:?}");
    }
}
