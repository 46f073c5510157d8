//! The only place that names glommio: executors pinned to CPUs, task spawning,
//! timers, TCP, and the cross-core channels. Everything else goes through here so
//! the runtime can be replaced if measurements ever demand it.

use std::future::Future;
use std::os::fd::RawFd;
use std::time::Duration;

use glommio::channels::shared_channel::{self, ConnectedReceiver, ConnectedSender, SharedReceiver, SharedSender};
use glommio::{LocalExecutorBuilder, Placement};

pub mod fs;
mod net;
pub use net::{each_readable, Listener, Stream};

/// Everything an executor thread needs to start.
pub struct ExecutorSpec {
    pub name: String,
    pub cpu: Option<usize>,
    pub spin_before_park: Option<Duration>,
}

/// Starts one pinned executor thread running `f()`; returns a handle to join it.
pub fn start_executor<F, Fut>(spec: ExecutorSpec, f: F) -> std::io::Result<std::thread::JoinHandle<()>>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let placement = match spec.cpu {
        Some(cpu) => Placement::Fixed(cpu),
        None => Placement::Unbound,
    };
    // glommio preallocates 10 MiB per executor for DMA file buffers; Tessera's
    // files are buffered and its sockets allocate their own buffers, so the
    // smallest pool (64 KiB) saves that memory on every shard.
    let mut builder = LocalExecutorBuilder::new(placement).name(&spec.name).io_memory(64 << 10);
    if let Some(spin) = spec.spin_before_park {
        builder = builder.spin_before_park(spin);
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let handle = std::thread::Builder::new().name(spec.name.clone()).spawn(move || {
        let ex = match builder.make() {
            Ok(ex) => {
                let _ = tx.send(Ok(()));
                ex
            }
            Err(e) => {
                let _ = tx.send(Err(std::io::Error::other(e.to_string())));
                return;
            }
        };
        ex.run(f());
    })?;
    match rx.recv() {
        Ok(Ok(())) => Ok(handle),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(std::io::Error::other("executor thread died while starting")),
    }
}

/// Runs a future as a detached task on the current executor.
pub fn spawn<T: 'static>(fut: impl Future<Output = T> + 'static) {
    glommio::spawn_local(fut).detach();
}

/// Runs a future as a detached task on the current executor without polling
/// it first (`spawn` polls a new task at once): for code that runs while the
/// shard's state is borrowed, such as a busy script's hook.
pub fn spawn_queued<T: 'static>(fut: impl Future<Output = T> + 'static) {
    let queue = glommio::executor().current_task_queue();
    match glommio::spawn_local_into(fut, queue) {
        Ok(task) => {
            task.detach();
        }
        Err(e) => tracing::error!("cannot queue a task: {e}"),
    }
}

/// Runs a future as a task on the current executor and returns its handle.
pub fn spawn_joinable<T: 'static>(fut: impl Future<Output = T> + 'static) -> glommio::Task<T> {
    glommio::spawn_local(fut)
}

pub async fn sleep(d: Duration) {
    glommio::timer::sleep(d).await
}

/// Lets the executor run other tasks before continuing.
pub async fn yield_now() {
    glommio::yield_if_needed().await;
    futures_lite::future::yield_now().await
}

/// Wakes a connection blocked in `read` by shutting its socket down (CLIENT KILL,
/// idle timeout). Call it only on the executor that owns the connection, for a
/// client still in that shard's registry: a connection leaves the registry
/// before its socket closes, so the fd cannot have been reused.
pub fn shutdown_fd(fd: RawFd) {
    // SAFETY: shutdown(2) has no memory effects; the caller guarantees `fd` is
    // still the connection's socket.
    unsafe {
        libc::shutdown(fd, libc::SHUT_RDWR);
    }
}

/// One direction of a cross-core channel, before it is connected on its executor.
pub struct ChannelTx<T: Send>(SharedSender<T>);
pub struct ChannelRx<T: Send>(SharedReceiver<T>);

/// A bounded, lock-free single-producer single-consumer channel between two cores.
pub fn channel<T: Send + 'static>(capacity: usize) -> (ChannelTx<T>, ChannelRx<T>) {
    let (tx, rx) = shared_channel::new_bounded(capacity);
    (ChannelTx(tx), ChannelRx(rx))
}

pub struct Sender<T: Send>(ConnectedSender<T>);
pub struct Receiver<T: Send>(ConnectedReceiver<T>);

impl<T: Send + 'static> ChannelTx<T> {
    /// Connects on the current executor; completes once the other end connects too.
    pub async fn connect(self) -> Sender<T> {
        Sender(self.0.connect().await)
    }
}

impl<T: Send + 'static> ChannelRx<T> {
    pub async fn connect(self) -> Receiver<T> {
        Receiver(self.0.connect().await)
    }
}

impl<T: Send + 'static> Sender<T> {
    /// Sends, waiting for room if the channel is full. Err(msg) if the peer is gone.
    pub async fn send(&self, msg: T) -> Result<(), ()> {
        self.0.send(msg).await.map_err(|_| ())
    }

    /// Sends without waiting: `Err(Some(msg))` when the channel is full,
    /// `Err(None)` when the peer is gone.
    pub fn try_send(&self, msg: T) -> Result<(), Option<T>> {
        use glommio::GlommioError;
        match self.0.try_send(msg) {
            Ok(()) => Ok(()),
            Err(GlommioError::WouldBlock(glommio::ResourceType::Channel(m))) => Err(Some(m)),
            Err(_) => Err(None),
        }
    }
}

impl<T: Send + 'static> Receiver<T> {
    /// The next message, or None once the sender is gone.
    pub async fn recv(&self) -> Option<T> {
        self.0.recv().await
    }
}

/// CPUs this process may run on, in ascending order.
pub fn allowed_cpus() -> Vec<usize> {
    // SAFETY: cpu_set_t is plain data; sched_getaffinity fills it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return (0..std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)).collect();
        }
        (0..libc::CPU_SETSIZE as usize).filter(|&c| libc::CPU_ISSET(c, &set)).collect()
    }
}

/// Checks that io_uring can be set up here, returning a one-line diagnosis if not.
pub fn probe_io_uring() -> Result<(), String> {
    // SAFETY: io_uring_setup with a zeroed params struct; the fd is closed below.
    unsafe {
        let mut params = [0u8; 120];
        let fd = libc::syscall(libc::SYS_io_uring_setup, 4u32, params.as_mut_ptr());
        if fd < 0 {
            let err = std::io::Error::last_os_error();
            let why = match err.raw_os_error() {
                Some(libc::ENOSYS) => "the kernel has no io_uring (Linux 5.8 or newer with CONFIG_IO_URING is needed)",
                Some(libc::EPERM) => "io_uring is disabled: set sysctl kernel.io_uring_disabled=0, or allow io_uring_setup in the container's seccomp profile",
                Some(libc::ENOMEM) => "not enough locked memory for io_uring: raise the memlock limit (ulimit -l unlimited, or LimitMEMLOCK=infinity in the systemd unit)",
                _ => "io_uring_setup failed",
            };
            return Err(format!("io_uring unavailable: {why} ({err})"));
        }
        libc::close(fd as i32);
    }
    Ok(())
}

/// The online CPUs of each NUMA node, from glommio's view of the machine
/// topology (a machine without NUMA information is one node 0).
pub fn numa_nodes() -> std::io::Result<std::collections::BTreeMap<usize, Vec<usize>>> {
    let mut nodes = std::collections::BTreeMap::<usize, Vec<usize>>::new();
    for loc in glommio::CpuSet::online()? {
        nodes.entry(loc.numa_node).or_default().push(loc.cpu);
    }
    for cpus in nodes.values_mut() {
        cpus.sort_unstable();
    }
    Ok(nodes)
}
