//! Work split over the machine's cores, results in input order: the per-server parts of the
//! bundle (runbook sections, collectors) are independent of each other, so a large site renders
//! them on every core. Output bytes do not depend on the number of threads (each part is rendered
//! alone and the parts are joined in order).

use std::ops::Range;
use std::thread;

/// Fewer items than this per thread are not worth a thread.
const MIN_PER_THREAD: usize = 64;

/// Calls `f` on consecutive ranges that together cover `0..n`, on up to one thread per core,
/// and returns the results in range order. The first error (in range order) is returned.
pub fn map_ranges<T, E, F>(n: usize, f: F) -> Result<Vec<T>, E>
where
    T: Send,
    E: Send,
    F: Fn(Range<usize>) -> Result<T, E> + Sync,
{
    let cores = thread::available_parallelism().map_or(1, |c| c.get());
    let threads = cores.min(n / MIN_PER_THREAD).max(1);
    if threads == 1 {
        return f(0..n).map(|t| vec![t]);
    }
    let ranges: Vec<Range<usize>> = (0..threads)
        .map(|t| (n * t / threads)..(n * (t + 1) / threads))
        .collect();
    let f = &f;
    thread::scope(|scope| {
        let handles: Vec<_> = ranges
            .into_iter()
            .map(|r| scope.spawn(move || f(r)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

/// Runs `a` and `b` at the same time (two independent renderings of one family, say) and returns
/// both results.
pub fn join<A: Send, B: Send>(
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    thread::scope(|scope| {
        let b = scope.spawn(b);
        let a = a();
        (a, b.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cover_every_item_once_in_order() {
        for n in [0, 1, 63, 64, 129, 1000, 1001] {
            let parts = map_ranges(n, |r| Ok::<_, ()>(r.collect::<Vec<_>>())).unwrap();
            let all: Vec<usize> = parts.into_iter().flatten().collect();
            assert_eq!(all, (0..n).collect::<Vec<_>>(), "n = {n}");
        }
    }

    #[test]
    fn the_first_error_in_order_is_returned() {
        let r = map_ranges(1000, |r| if r.start == 0 { Ok(()) } else { Err(r.start) });
        if let Err(start) = r {
            assert!(start > 0);
            let again = map_ranges(1000, |r| if r.start == 0 { Ok(()) } else { Err(r.start) });
            assert_eq!(again, Err(start), "deterministic");
        }
    }
}
