//! TCP for one executor, readiness-driven like Redis's event loop.
//!
//! glommio's own streams arm one io_uring poll per read, so every request paid
//! a poll submission and a completion on top of its `recv` and `send`. Here each
//! executor keeps one edge-triggered epoll set for its sockets. A poller task
//! harvests it without blocking while there is work (one `epoll_wait` per round
//! of the executor, covering every ready socket) and, once nothing is ready,
//! waits for the epoll descriptor itself with a single poll on the ring. A
//! request then costs one `recv` and one `send`, as in Redis.
//!
//! Readiness is remembered per socket: an event sets it, and a `recv` that
//! returns less than asked (or `EAGAIN`) clears it. Data that arrives after such
//! a read raises a new edge, so nothing is missed.

use std::cell::RefCell;
use std::future::poll_fn;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::Duration;

/// Events harvested per `epoll_wait`.
const EVENTS: usize = 256;

thread_local! {
    static POLLER: RefCell<Option<Rc<Poller>>> = const { RefCell::new(None) };
}

#[derive(Default)]
struct Slot {
    fd: RawFd,
    generation: u32,
    readable: bool,
    writable: bool,
    read_waker: Option<Waker>,
    write_waker: Option<Waker>,
}

/// One executor's epoll set and the readiness of each registered socket.
struct Poller {
    epfd: OwnedFd,
    slots: RefCell<Vec<Slot>>,
    free: RefCell<Vec<u32>>,
}

/// A socket's place in its executor's poller.
struct Token {
    poller: Rc<Poller>,
    index: u32,
    fd: RawFd,
}

fn errno() -> io::Error {
    io::Error::last_os_error()
}

impl Poller {
    /// This executor's poller, created (with its task) on first use.
    fn current() -> io::Result<Rc<Poller>> {
        POLLER.with(|p| {
            if let Some(p) = p.borrow().as_ref() {
                return Ok(p.clone());
            }
            // SAFETY: epoll_create1 has no memory effects; the fd is owned below.
            let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
            if fd < 0 {
                return Err(errno());
            }
            // SAFETY: `fd` was just returned to us and nothing else owns it.
            let epfd = unsafe { OwnedFd::from_raw_fd(fd) };
            let poller = Rc::new(Poller { epfd, slots: RefCell::default(), free: RefCell::default() });
            *p.borrow_mut() = Some(poller.clone());
            glommio::spawn_local(Poller::run(poller.clone())).detach();
            Ok(poller)
        })
    }

    /// Registers `fd` for edge-triggered readiness in both directions.
    fn register(self: &Rc<Self>, fd: RawFd) -> io::Result<Token> {
        let index = match self.free.borrow_mut().pop() {
            Some(i) => i,
            None => {
                let mut slots = self.slots.borrow_mut();
                slots.push(Slot::default());
                (slots.len() - 1) as u32
            }
        };
        // A slot's generation changes when its socket deregisters, so events
        // still queued for the previous socket are told apart.
        let generation = {
            let mut slots = self.slots.borrow_mut();
            let s = &mut slots[index as usize];
            s.fd = fd;
            // Try the socket first; the first event only confirms it.
            s.readable = true;
            s.writable = true;
            s.generation
        };
        let mut ev = libc::epoll_event {
            events: (libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLET) as u32,
            u64: (u64::from(generation) << 32) | u64::from(index),
        };
        // SAFETY: `ev` is a valid epoll_event for the duration of the call.
        if unsafe { libc::epoll_ctl(self.epfd.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut ev) } < 0 {
            let e = errno();
            self.free.borrow_mut().push(index);
            return Err(e);
        }
        Ok(Token { poller: self.clone(), index, fd })
    }

    /// Harvests readiness forever: without blocking while events keep coming,
    /// and through one ring poll on the epoll descriptor once they stop.
    async fn run(self: Rc<Self>) {
        let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; EVENTS];
        loop {
            // SAFETY: `events` has room for EVENTS entries.
            let n = unsafe { libc::epoll_wait(self.epfd.as_raw_fd(), events.as_mut_ptr(), EVENTS as i32, 0) };
            if n < 0 {
                let e = errno();
                if e.kind() != io::ErrorKind::Interrupted {
                    tracing::warn!("epoll_wait failed: {e}");
                    glommio::timer::sleep(Duration::from_millis(1)).await;
                }
                continue;
            }
            if n == 0 {
                if let Err(e) = glommio::net::wait_readable(self.epfd.as_raw_fd()).await {
                    tracing::warn!("waiting on epoll failed: {e}");
                    glommio::timer::sleep(Duration::from_millis(1)).await;
                }
                continue;
            }
            self.dispatch(&events[..n as usize]);
            // Let the woken connections run before the next harvest.
            futures_lite::future::yield_now().await;
        }
    }

    /// Harvests what is ready, without waiting.
    fn harvest(&self) {
        let mut events = [libc::epoll_event { events: 0, u64: 0 }; 64];
        loop {
            // SAFETY: `events` has room for 64 entries.
            let n = unsafe { libc::epoll_wait(self.epfd.as_raw_fd(), events.as_mut_ptr(), 64, 0) };
            if n <= 0 {
                return;
            }
            self.dispatch(&events[..n as usize]);
            if n < 64 {
                return;
            }
        }
    }

    fn dispatch(&self, events: &[libc::epoll_event]) {
        let mut slots = self.slots.borrow_mut();
        for ev in events {
            let (flags, data) = (ev.events, ev.u64);
            let Some(s) = slots.get_mut((data & 0xffff_ffff) as usize) else { continue };
            if s.generation != (data >> 32) as u32 {
                continue;
            }
            let err = flags & (libc::EPOLLERR | libc::EPOLLHUP) as u32 != 0;
            if err || flags & (libc::EPOLLIN | libc::EPOLLRDHUP) as u32 != 0 {
                s.readable = true;
                if let Some(w) = s.read_waker.take() {
                    w.wake();
                }
            }
            if err || flags & libc::EPOLLOUT as u32 != 0 {
                s.writable = true;
                if let Some(w) = s.write_waker.take() {
                    w.wake();
                }
            }
        }
    }
}

/// Hands on the readiness of this shard's sockets that is there already,
/// without waiting: their tasks are woken.
pub fn poll_ready() {
    if let Some(poller) = POLLER.with(|p| p.borrow().clone()) {
        poller.harvest();
    }
}

/// For a shard whose executor is held up by a long synchronous job (a script
/// past `busy-reply-threshold`): harvests readiness now, without waiting, and
/// calls `f` with every socket that is readable, as Redis's
/// processEventsWhileBlocked does. `f` returns true when it read the socket
/// dry, which clears its readiness until its next event. Connection tasks are
/// woken as usual and find whatever `f` left.
pub fn each_readable(mut f: impl FnMut(RawFd) -> bool) {
    let Some(poller) = POLLER.with(|p| p.borrow().clone()) else {
        return;
    };
    poller.harvest();
    let ready: Vec<(u32, u32, RawFd)> = poller
        .slots
        .borrow()
        .iter()
        .enumerate()
        .filter(|(_, s)| s.readable)
        .map(|(i, s)| (i as u32, s.generation, s.fd))
        .collect();
    for (index, generation, fd) in ready {
        if f(fd) {
            let mut slots = poller.slots.borrow_mut();
            if let Some(s) = slots.get_mut(index as usize).filter(|s| s.generation == generation) {
                s.readable = false;
            }
        }
    }
}

impl Token {
    fn readable(&self) -> bool {
        self.poller.slots.borrow()[self.index as usize].readable
    }

    fn set_readable(&self, on: bool) {
        self.poller.slots.borrow_mut()[self.index as usize].readable = on;
    }

    fn set_writable(&self, on: bool) {
        self.poller.slots.borrow_mut()[self.index as usize].writable = on;
    }

    /// Waits until an event marks the socket readable (`write == false`) or writable.
    async fn ready(&self, write: bool) {
        poll_fn(|cx| {
            let mut slots = self.poller.slots.borrow_mut();
            let s = &mut slots[self.index as usize];
            let (ready, waker) = if write { (s.writable, &mut s.write_waker) } else { (s.readable, &mut s.read_waker) };
            if ready {
                return Poll::Ready(());
            }
            match waker {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => *waker = Some(cx.waker().clone()),
            }
            Poll::Pending
        })
        .await
    }
}

impl Drop for Token {
    fn drop(&mut self) {
        // SAFETY: removing a registration has no memory effects; the event
        // argument is ignored for EPOLL_CTL_DEL.
        unsafe {
            libc::epoll_ctl(self.poller.epfd.as_raw_fd(), libc::EPOLL_CTL_DEL, self.fd, std::ptr::null_mut());
        }
        let mut slots = self.poller.slots.borrow_mut();
        let s = &mut slots[self.index as usize];
        s.generation = s.generation.wrapping_add(1);
        s.readable = false;
        s.read_waker = None;
        s.write_waker = None;
        drop(slots);
        self.poller.free.borrow_mut().push(self.index);
    }
}

/// A TCP listener created with SO_REUSEPORT so every shard can accept on the same port.
pub struct Listener {
    // Declared before `socket`: deregisters before the descriptor closes.
    token: Token,
    socket: socket2::Socket,
}

impl Listener {
    /// Binds `addr` with SO_REUSEPORT and the given backlog, on the current executor.
    pub fn bind(addr: std::net::SocketAddr, backlog: i32) -> io::Result<Listener> {
        let domain = if addr.is_ipv6() { socket2::Domain::IPV6 } else { socket2::Domain::IPV4 };
        let sk = socket2::Socket::new(domain, socket2::Type::STREAM, Some(socket2::Protocol::TCP))?;
        sk.set_reuse_port(true)?;
        sk.set_reuse_address(true)?;
        if addr.is_ipv6() {
            sk.set_only_v6(true)?;
        }
        sk.set_nonblocking(true)?;
        sk.bind(&addr.into())?;
        sk.listen(backlog)?;
        let token = Poller::current()?.register(sk.as_raw_fd())?;
        Ok(Listener { token, socket: sk })
    }

    pub fn local_addr(&self) -> io::Result<std::net::SocketAddr> {
        self.socket.local_addr()?.as_socket().ok_or_else(|| io::Error::other("not an inet socket"))
    }

    pub fn raw_fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }

    pub async fn accept(&self) -> io::Result<Stream> {
        loop {
            if let Some(stream) = self.try_accept()? {
                return Ok(stream);
            }
            self.token.ready(false).await;
        }
    }

    /// Accepts a pending connection without waiting; None when there is none.
    pub fn try_accept(&self) -> io::Result<Option<Stream>> {
        while self.token.readable() {
            // SAFETY: accept4 with null address arguments; the new fd is owned below.
            let fd = unsafe {
                libc::accept4(
                    self.socket.as_raw_fd(),
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                )
            };
            if fd >= 0 {
                // SAFETY: `fd` is a connected socket that nothing else owns.
                let socket = unsafe { socket2::Socket::from_raw_fd(fd) };
                let token = self.token.poller.register(fd)?;
                return Ok(Some(Stream { token, socket, full_reads: 0 }));
            }
            let e = errno();
            match e.raw_os_error() {
                Some(libc::EAGAIN) => self.token.set_readable(false),
                Some(libc::EINTR | libc::ECONNABORTED) => {}
                _ => return Err(e),
            }
        }
        Ok(None)
    }
}

/// A connected TCP stream owned by the executor that accepted it.
pub struct Stream {
    // Declared before `socket`: deregisters before the descriptor closes.
    token: Token,
    socket: socket2::Socket,
    /// Reads in a row that filled the caller's buffer without waiting.
    full_reads: u32,
}

/// After this many full reads in a row a stream yields once, so a client that
/// streams a deep pipeline cannot keep its shard from serving the others:
/// after each, as Redis serves every ready client once per event loop turn
/// (one 16 KB read, a few hundred commands, well under a millisecond).
const FULL_READS_BEFORE_YIELD: u32 = 1;

impl Stream {
    /// Appends up to `max` bytes of what is there to `buf`, waiting for data
    /// if nothing is; 0 at end of stream. The bytes land in `buf`'s spare
    /// capacity directly, with no intermediate copy.
    pub async fn read_into(&mut self, buf: &mut bytes::BytesMut, max: usize) -> io::Result<usize> {
        if self.full_reads >= FULL_READS_BEFORE_YIELD {
            self.full_reads = 0;
            // With tasks runnable glommio does not poll its reactor, so the
            // shard's epoll task would not learn that other sockets are
            // readable until the preemption timer (100 ms): harvest first.
            poll_ready();
            futures_lite::future::yield_now().await;
        }
        buf.reserve(max);
        loop {
            if self.token.readable() {
                let spare = buf.spare_capacity_mut();
                let want = spare.len().min(max);
                // SAFETY: `spare` is valid for writes of `want` bytes; recv writes
                // at most that many and reports how many it wrote.
                let n = unsafe { libc::recv(self.token.fd, spare.as_mut_ptr().cast(), want, libc::MSG_DONTWAIT) };
                if n >= 0 {
                    let n = n as usize;
                    // SAFETY: recv initialised the first `n` bytes of the spare capacity.
                    unsafe { buf.set_len(buf.len() + n) };
                    if n < want {
                        self.token.set_readable(false);
                        self.full_reads = 0;
                    } else {
                        self.full_reads += 1;
                    }
                    return Ok(n);
                }
                let e = errno();
                match e.raw_os_error() {
                    Some(libc::EAGAIN) => self.token.set_readable(false),
                    Some(libc::EINTR) => {}
                    _ => return Err(e),
                }
            }
            self.token.ready(false).await;
        }
    }

    /// Writes all of `buf`, waiting for room in the socket when it is full.
    pub async fn write_all(&mut self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            // SAFETY: `buf` is valid for reads of `buf.len()` bytes.
            let n = unsafe {
                libc::send(self.token.fd, buf.as_ptr().cast(), buf.len(), libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL)
            };
            if n >= 0 {
                buf = &buf[n as usize..];
                continue;
            }
            let e = errno();
            match e.raw_os_error() {
                Some(libc::EAGAIN) => {
                    self.token.set_writable(false);
                    self.token.ready(true).await;
                }
                Some(libc::EINTR) => {}
                _ => return Err(e),
            }
        }
        Ok(())
    }

    pub fn peer_addr(&self) -> io::Result<std::net::SocketAddr> {
        self.socket.peer_addr()?.as_socket().ok_or_else(|| io::Error::other("not an inet socket"))
    }

    pub fn local_addr(&self) -> io::Result<std::net::SocketAddr> {
        self.socket.local_addr()?.as_socket().ok_or_else(|| io::Error::other("not an inet socket"))
    }

    pub fn set_nodelay(&self, on: bool) -> io::Result<()> {
        self.socket.set_nodelay(on)
    }

    pub fn raw_fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }

    /// Sets SO_KEEPALIVE with the given idle time in seconds (0 leaves it off).
    pub fn set_keepalive(&self, secs: u64) -> io::Result<()> {
        if secs == 0 {
            return Ok(());
        }
        let ka = socket2::TcpKeepalive::new()
            .with_time(Duration::from_secs(secs))
            .with_interval(Duration::from_secs((secs / 3).max(1)));
        self.socket.set_tcp_keepalive(&ka)
    }
}
