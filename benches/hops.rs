//! Cross-core hop benchmarks: a request travels from one executor to another
//! over the runtime's shared channels (the same ones the shard mesh uses) and
//! its reply comes back. Measures one-at-a-time round trips and pipelined
//! batches, which is what command batching per shard buys.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tessera::runtime::{self, ExecutorSpec};

/// Work for the client executor: `(round trips, in flight at once)`.
type Job = (u64, usize);

/// Two executors: a client that runs jobs from the bench thread, and an echo
/// server on another CPU when there is one.
struct Pair {
    jobs: mpsc::Sender<Job>,
    done: mpsc::Receiver<Duration>,
    _threads: Vec<std::thread::JoinHandle<()>>,
}

fn start(spin: Option<Duration>) -> Pair {
    let cpus = runtime::allowed_cpus();
    let cpu = |i: usize| if cpus.len() >= 2 { cpus.get(i).copied() } else { None };
    let (req_tx, req_rx) = runtime::channel::<u64>(1024);
    let (rep_tx, rep_rx) = runtime::channel::<u64>(1024);
    let echo = runtime::start_executor(
        ExecutorSpec { name: "hop-echo".into(), cpu: cpu(1), spin_before_park: spin },
        move || async move {
            let rx = req_rx.connect().await;
            let tx = rep_tx.connect().await;
            while let Some(v) = rx.recv().await {
                if tx.send(v).await.is_err() {
                    return;
                }
            }
        },
    )
    .expect("start echo executor");
    let (jobs_tx, jobs_rx) = mpsc::channel::<Job>();
    let (done_tx, done_rx) = mpsc::channel::<Duration>();
    let client = runtime::start_executor(
        ExecutorSpec { name: "hop-client".into(), cpu: cpu(0), spin_before_park: spin },
        move || async move {
            let tx = req_tx.connect().await;
            let rx = rep_rx.connect().await;
            loop {
                let (n, depth) = match jobs_rx.try_recv() {
                    Ok(job) => job,
                    Err(mpsc::TryRecvError::Empty) => {
                        runtime::sleep(Duration::from_micros(100)).await;
                        continue;
                    }
                    Err(mpsc::TryRecvError::Disconnected) => return,
                };
                let started = Instant::now();
                let mut sent = 0u64;
                let mut received = 0u64;
                while received < n {
                    while sent < n && sent - received < depth as u64 {
                        if tx.send(sent).await.is_err() {
                            return;
                        }
                        sent += 1;
                    }
                    if rx.recv().await.is_none() {
                        return;
                    }
                    received += 1;
                }
                if done_tx.send(started.elapsed()).is_err() {
                    return;
                }
            }
        },
    )
    .expect("start client executor");
    Pair { jobs: jobs_tx, done: done_rx, _threads: vec![echo, client] }
}

impl Pair {
    fn run(&self, n: u64, depth: usize) -> Duration {
        self.jobs.send((n, depth)).expect("client executor alive");
        self.done.recv().expect("client executor finished the job")
    }
}

fn hops(c: &mut Criterion) {
    let mut g = c.benchmark_group("hop_round_trip");
    g.throughput(Throughput::Elements(1));
    // Parked executors (the default) and executors that spin 50 us before
    // parking (--spin-before-park-us 50), which saves the wake-up on each side.
    for (label, spin) in [("park", None), ("spin_50us", Some(Duration::from_micros(50)))] {
        let pair = start(spin);
        for depth in [1usize, 16, 128] {
            g.bench_function(format!("{label}_in_flight_{depth}"), |b| b.iter_custom(|iters| pair.run(iters, depth)));
        }
        // The executors stay in their loops; the process exits after main.
        std::mem::forget(pair);
    }
    g.finish();
}

criterion_group!(benches, hops);
criterion_main!(benches);
