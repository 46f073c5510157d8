//! Cross-core hop benchmarks: a request travels from one executor to another
//! over the runtime's shared channels (the same ones the shard mesh uses) and
//! its reply comes back. Measures one-at-a-time round trips, pipelined ones,
//! and 16 jobs sent as one message against 16 messages, which is what command
//! batching per shard buys.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tessera::runtime::{self, ExecutorSpec};

/// Jobs carried by one batch message in the batched benchmarks.
const BATCH: usize = 16;

/// Work for the client executor.
#[derive(Clone, Copy)]
enum Job {
    /// `n` round trips of one value each, at most `depth` in flight.
    Single { n: u64, depth: usize },
    /// `n` rounds of `BATCH` jobs: sent as one message each way when `one_message`,
    /// else as `BATCH` messages each way (all sent, then all received).
    Batch { n: u64, one_message: bool },
}

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
    let (breq_tx, breq_rx) = runtime::channel::<Vec<u64>>(1024);
    let (brep_tx, brep_rx) = runtime::channel::<Vec<u64>>(1024);
    let echo = runtime::start_executor(
        ExecutorSpec { name: "hop-echo".into(), cpu: cpu(1), spin_before_park: spin },
        move || async move {
            // Batches are answered in place: the reply reuses the request's vector,
            // as a shard's reply to a batched hop carries one result per job.
            runtime::spawn(async move {
                let rx = breq_rx.connect().await;
                let tx = brep_tx.connect().await;
                while let Some(mut batch) = rx.recv().await {
                    for v in &mut batch {
                        *v += 1;
                    }
                    if tx.send(batch).await.is_err() {
                        return;
                    }
                }
            });
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
            let btx = breq_tx.connect().await;
            let brx = brep_rx.connect().await;
            loop {
                let job = match jobs_rx.try_recv() {
                    Ok(job) => job,
                    Err(mpsc::TryRecvError::Empty) => {
                        runtime::sleep(Duration::from_micros(100)).await;
                        continue;
                    }
                    Err(mpsc::TryRecvError::Disconnected) => return,
                };
                let started = Instant::now();
                match job {
                    Job::Single { n, depth } => {
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
                    }
                    Job::Batch { n, one_message: true } => {
                        for round in 0..n {
                            let batch: Vec<u64> = (round..round + BATCH as u64).collect();
                            if btx.send(batch).await.is_err() {
                                return;
                            }
                            match brx.recv().await {
                                Some(reply) => drop(std::hint::black_box(reply)),
                                None => return,
                            }
                        }
                    }
                    Job::Batch { n, one_message: false } => {
                        for round in 0..n {
                            for v in round..round + BATCH as u64 {
                                if tx.send(v).await.is_err() {
                                    return;
                                }
                            }
                            for _ in 0..BATCH {
                                if rx.recv().await.is_none() {
                                    return;
                                }
                            }
                        }
                    }
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
    fn run(&self, job: Job) -> Duration {
        self.jobs.send(job).expect("client executor alive");
        self.done.recv().expect("client executor finished the job")
    }
}

fn hops(c: &mut Criterion) {
    // Parked executors (the default) and executors that spin 50 us before
    // parking (--spin-before-park-us 50), which saves the wake-up on each side.
    // One pair at a time: an idle pair's client still polls for work.
    for (label, spin) in [("park", None), ("spin_50us", Some(Duration::from_micros(50)))] {
        let pair = start(spin);
        let mut g = c.benchmark_group("hop_round_trip");
        g.throughput(Throughput::Elements(1));
        for depth in [1usize, 16, 128] {
            g.bench_function(format!("{label}_in_flight_{depth}"), |b| {
                b.iter_custom(|iters| pair.run(Job::Single { n: iters, depth }))
            });
        }
        g.finish();
        // One round = 16 jobs there and back: in one message each way, or in 16.
        let mut g = c.benchmark_group("hop_batch_16");
        g.throughput(Throughput::Elements(BATCH as u64));
        for (how, one_message) in [("one_message", true), ("16_messages", false)] {
            g.bench_function(format!("{label}_{how}"), |b| {
                b.iter_custom(|iters| pair.run(Job::Batch { n: iters, one_message }))
            });
        }
        g.finish();
        // The executors stay in their loops; the process exits after main.
        std::mem::forget(pair);
    }
}

criterion_group!(benches, hops);
criterion_main!(benches);
