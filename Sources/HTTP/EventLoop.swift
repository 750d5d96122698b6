import CEpoll
#if canImport(Glibc)
import Glibc
#endif

/// Socket readiness for a share of a server's connections: one thread waits
/// on an edge-triggered epoll set and runs each event for its connection
/// (`Connection.handle(_:)`), on this thread or on the connection's serial
/// queue; a server runs several loops (`ServerConfiguration.eventLoops`) and
/// gives each new connection to the next one in turn.
///
/// Why not Dispatch read and write sources: on Linux each source event costs
/// libdispatch an `ioctl(FIONREAD)`, two `epoll_ctl` calls (it re-arms one-shot
/// registrations) and an eventfd wake-up: four system calls around the read
/// and the write, more than half the CPU of a small keep-alive request. Each
/// socket here is registered once, edge-triggered, for reading and writing,
/// and costs no system call per request beyond its read and its write.
///
/// Why events of cheap requests run on this thread: handing every event to a
/// Dispatch worker cost two context switches per small request (loop thread
/// to worker and back, on a busy core), measured as about half of lossd's CPU
/// for a small cross-entropy request (sys 29-32 µs of 60). So a connection
/// between requests or in a small one is run here, serialised with its queue
/// by `queue.sync`; one whose request is heavy (a large, chunked or gzip body,
/// TLS) is "offloaded" and its events go to its queue asynchronously, so this
/// thread never waits behind heavy work. See `Connection` for the rule.
///
/// Edge-triggered contract for connections: after an event, read until a
/// short read or EAGAIN; and after any pause (a pending write, a hand-off to
/// the queue), try reading again, since an edge that came during the pause is
/// not repeated.
final class EventLoop: Sendable {
    private let epoll: Int32
    private let wakeup: Int32
    /// Event data → connection. Ids are never reused, so an event for a
    /// closed connection finds nothing, even if its descriptor number was.
    private let registrations = Locked<[UInt64: Connection]>([:])
    /// True while the loop runs one wake-up's events: a connection answering
    /// inline then leaves its answer for the end of the round (`deferWrite`).
    /// Read and written only on the loop's thread.
    nonisolated(unsafe) private(set) var defersWrites = false
    /// Connections whose answers wait for the end of this round; only on the loop's thread.
    nonisolated(unsafe) private var deferredWrites: [Connection] = []

    /// Events, as `epoll_event.events` bits, that mean "try reading".
    static let readEvents = EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue
    /// Events that mean the peer will send no more (or the socket failed).
    static let hangUpEvents = EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue
    /// Events that mean "try writing".
    static let writeEvents = EPOLLOUT.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue

    /// An event loop with its thread running.
    init() throws(ServerError) {
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epoll >= 0 else { throw ServerError(message: "epoll_create1(): \(Socket.errorText())") }
        wakeup = eventfd(0, Int32(EFD_CLOEXEC) | Int32(EFD_NONBLOCK))
        guard wakeup >= 0 else {
            let reason = Socket.errorText()
            Glibc.close(epoll)
            throw ServerError(message: "eventfd(): \(reason)")
        }
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.u64 = 0  // 0 is the wake-up descriptor; connections count from 1
        epoll_ctl(epoll, EPOLL_CTL_ADD, wakeup, &event)

        var thread = pthread_t()
        let loop = Unmanaged.passRetained(self).toOpaque()
        let created = pthread_create(&thread, nil, { argument in
            let loop = Unmanaged<EventLoop>.fromOpaque(argument!).takeRetainedValue()
            loop.run()
            return nil
        }, loop)
        guard created == 0 else {
            Unmanaged<EventLoop>.fromOpaque(loop).release()
            Glibc.close(wakeup)
            Glibc.close(epoll)
            throw ServerError(message: "pthread_create(): \(Socket.errorText(created))")
        }
        pthread_detach(thread)
    }

    /// Registers a connection's socket for reading and writing; false when
    /// the system refused (the caller then closes it).
    func add(_ connection: Connection, fd: Int32, id: UInt64) -> Bool {
        registrations.withLock { $0[id] = connection }
        var event = epoll_event()
        event.events = EPOLLIN.rawValue | EPOLLOUT.rawValue | EPOLLRDHUP.rawValue | EPOLLET.rawValue
        event.data.u64 = id
        // Already-pending readiness is reported at once (the kernel polls the socket on add).
        guard epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) == 0 else {
            registrations.withLock { _ = $0.removeValue(forKey: id) }
            return false
        }
        return true
    }

    /// Unregisters a socket; call before closing it.
    func remove(fd: Int32, id: UInt64) {
        epoll_ctl(epoll, EPOLL_CTL_DEL, fd, nil)
        registrations.withLock { _ = $0.removeValue(forKey: id) }
    }

    /// Has the loop write `connection`'s pending answer at the end of this
    /// round (as a writable event), with the round's other answers.
    func deferWrite(_ connection: Connection) {
        deferredWrites.append(connection)
    }

    /// Ends the loop's thread and closes its descriptors.
    func stop() {
        var one: UInt64 = 1
        _ = write(wakeup, &one, 8)
    }

    private func run() {
        let capacity = 256
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        defer { events.deallocate() }
        var ready: [(Connection, UInt32)] = []
        ready.reserveCapacity(capacity)
        var running = true
        while running {
            let count = epoll_wait(epoll, events, Int32(capacity), -1)
            if count < 0 {
                if errno == EINTR { continue }
                break
            }
            // One lock per wake-up, not per event.
            registrations.withLock { table in
                for i in 0..<Int(count) {
                    let id = events[i].data.u64
                    if id == 0 {
                        running = false
                    } else if let connection = table[id] {
                        ready.append((connection, events[i].events))
                    }
                }
            }
            defersWrites = true
            for (connection, flags) in ready {
                connection.handle(flags)
            }
            defersWrites = false
            // The round's answers go out together, at its end: a client holding many connections
            // (a proxy, a load generator) is woken once per round rather than once per answer, a
            // cross-CPU wake-up that cost as much as a fifth of a small request's CPU.
            for connection in deferredWrites {
                connection.handle(EPOLLOUT.rawValue)
            }
            deferredWrites.removeAll(keepingCapacity: true)
            ready.removeAll(keepingCapacity: true)
        }
        Glibc.close(wakeup)
        Glibc.close(epoll)
    }
}
