import Foundation
import Synchronization
internal import GRDB

/// The SupportBot database: sessions, transcripts, knowledge-base versions, and the human-handoff queue.
///
/// On disk it is a `DatabasePool` in WAL mode (many concurrent readers, one writer); in memory a `DatabaseQueue`.
/// Every write is one transaction. Safe to share between tasks.
public final class SupportBotDatabase: Sendable {
    let writer: any DatabaseWriter
    /// The file path, or nil for an in-memory database.
    public let path: String?
    /// Chat turns waiting for the next group commit (see `record(_:)`).
    let turns = TurnQueue()
    private let writeHealth = Mutex<WriteFailure?>(nil)
    /// A temporary folder holding the copy this instance reads (see `openForReading`), removed with it.
    private let copyFolder = Mutex<URL?>(nil)

    deinit {
        if let folder = copyFolder.withLock({ $0 }) { try? FileManager.default.removeItem(at: folder) }
    }

    /// - Parameter lastMigration: apply the migrations only up to this one. Tests only (see `open(path:upTo:)`).
    private init(writer: any DatabaseWriter, path: String?, upTo lastMigration: String? = nil) throws {
        self.writer = writer
        self.path = path
        let migrator = Schema.migrator
        let unknown = try writer.read { db in
            try migrator.appliedIdentifiers(db).subtracting(migrator.migrations)
        }
        if !unknown.isEmpty {
            throw StoreError.newerSchema(path: path ?? ":memory:", unknownMigrations: unknown.sorted())
        }
        if let lastMigration {
            try migrator.migrate(writer, upTo: lastMigration)
        } else {
            try migrator.migrate(writer)
        }
    }

    /// Opens (or creates) the database file at `path` and brings its schema up to date.
    /// - Throws: `StoreError` saying why the file can't be used.
    public static func open(path: String) throws -> SupportBotDatabase {
        try open(path: path, upTo: nil)
    }

    /// `open(path:)`, applying the migrations only up to `lastMigration` when it is not nil: tests use it to
    /// make a file as an older build left it.
    static func open(path: String, upTo lastMigration: String?) throws -> SupportBotDatabase {
        let path = (path as NSString).expandingTildeInPath
        try checkLocation(path)
        do {
            var configuration = makeConfiguration()
            configuration.journalMode = .wal
            let pool = try DatabasePool(path: path, configuration: configuration)
            do {
                return try SupportBotDatabase(writer: pool, path: path, upTo: lastMigration)
            } catch {
                try? pool.close()
                throw error
            }
        } catch let error as DatabaseError {
            throw storeError(error, path: path)
        }
    }

    /// Opens the file for commands that only read it. Where the file can be written this is `open(path:)`. On a
    /// read-only file system (a backup or snapshot mounted read-only) SQLite can't open a WAL database in place (it
    /// needs its -shm file), so the file and its write-ahead log are copied to a temporary folder and the copy is read;
    /// the copy goes when this instance does.
    /// - Parameter copying: read a copy even where the file could be written (tests).
    public static func openForReading(path: String, copying: Bool = false) throws -> SupportBotDatabase {
        let path = (path as NSString).expandingTildeInPath
        guard copying || isOnReadOnlyFileSystem(path) else { return try open(path: path) }
        let fileManager = FileManager.default
        guard fileManager.isReadableFile(atPath: path) else {
            throw StoreError.permissionDenied(path: path, target: "the file \(path)")
        }
        let folder = fileManager.temporaryDirectory.appendingPathComponent("supportbot-read-\(UUID().uuidString)")
        do {
            try fileManager.createDirectory(at: folder, withIntermediateDirectories: true)
            let copy = folder.appendingPathComponent("copy.sqlite")
            try fileManager.copyItem(atPath: path, toPath: copy.path)
            if fileManager.fileExists(atPath: path + "-wal") {
                try fileManager.copyItem(atPath: path + "-wal", toPath: copy.path + "-wal")
            }
            let database = try open(path: copy.path)
            database.copyFolder.withLock { $0 = folder }
            return database
        } catch let error as StoreError {
            try? fileManager.removeItem(at: folder)
            throw error
        } catch {
            try? fileManager.removeItem(at: folder)
            throw StoreError.cannotOpen(path: path, reason: "could not copy it to read it from a writable folder "
                                        + "(\(error.localizedDescription))")
        }
    }

    /// Whether the file (or the folder it would be created in) is on a file system mounted read-only.
    static func isOnReadOnlyFileSystem(_ path: String) -> Bool {
        var info = statvfs()
        let target = FileManager.default.fileExists(atPath: path) ? path : (path as NSString).deletingLastPathComponent
        guard statvfs(target.isEmpty ? "." : target, &info) == 0 else { return false }
        return info.f_flag & UInt(ST_RDONLY) != 0
    }

    /// What a failure of the store's means to a user, for an error that escaped to the command line: SQLite's
    /// damage, full-disk and I/O errors get a message that says what to do. Nil for anything else.
    public static func explain(_ error: any Error, path: String? = nil) -> StoreError? {
        guard let error = error as? DatabaseError else { return nil }
        switch error.resultCode.primaryResultCode {
        case .SQLITE_CORRUPT, .SQLITE_NOTADB: return .damaged(path: path)
        case .SQLITE_FULL: return .diskFull(path: path)
        case .SQLITE_IOERR: return .ioError(path: path, reason: error.message ?? "\(error.resultCode)")
        case .SQLITE_READONLY:
            if let path, isOnReadOnlyFileSystem(path) { return .readOnlyFileSystem(path: path) }
            return .permissionDenied(path: path ?? "the database file", target: "the file")
        default: return nil
        }
    }

    /// A fresh, empty in-memory database, for tests and quick runs.
    public static func inMemory() throws -> SupportBotDatabase {
        try SupportBotDatabase(writer: DatabaseQueue(configuration: makeConfiguration()), path: nil)
    }

    /// Closes the connections. Further use of this instance throws.
    public func close() throws {
        try writer.close()
    }

    /// Copies the write-ahead log into the database file and empties it.
    public func checkpoint() async throws {
        try await writer.writeWithoutTransaction { db in
            _ = try db.checkpoint(.truncate)
        }
    }

    /// The latest write that failed, when no write has succeeded since (a full disk, a read-only file): what
    /// `/healthz` reports. Nil while writes succeed.
    public var writeFailure: WriteFailure? { writeHealth.withLock { $0 } }

    /// A write of the store's (a transaction): its outcome is kept for `writeFailure`.
    func write<T: Sendable>(_ updates: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            let value = try await writer.write(updates)
            writeHealth.withLock { $0 = nil }
            return value
        } catch let error as DatabaseError where Self.storageFailures.contains(error.resultCode.primaryResultCode) {
            // The file can't take writes (full disk, read-only, I/O error, damage): not a refused write such as a
            // second open ticket, which is the caller's business.
            let failure = WriteFailure(reason: error.message ?? "SQLite error \(error.resultCode)", at: Date())
            writeHealth.withLock { $0 = $0 ?? failure }
            throw error
        }
    }

    /// SQLite results that mean the database file can't be written, whatever is written.
    static let storageFailures: [ResultCode] = [.SQLITE_FULL, .SQLITE_IOERR, .SQLITE_READONLY, .SQLITE_CANTOPEN,
                                                    .SQLITE_CORRUPT, .SQLITE_NOTADB, .SQLITE_PERM]

    /// SQLite's own check of every page and index: `["ok"]` for a sound database, else what is wrong.
    public func integrityCheck() async throws -> [String] {
        try await writer.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
    }

    /// Names of the migrations applied to this database, in order.
    public func appliedMigrations() async throws -> [String] {
        try await writer.read { db in try Schema.migrator.completedMigrations(db) }
    }

    private static func makeConfiguration() -> Configuration {
        var configuration = Configuration()
        configuration.label = "SupportBot"
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // The writer keeps up to 16 MiB of pages (SQLite's default is 2 MiB): with many chats open at once, each
            // adds its lines at its own place in the transcript index, and a small cache reads those pages back from
            // the file on every commit. Readers keep the default.
            if !db.configuration.readonly { try db.execute(sql: "PRAGMA cache_size = -16384") }
        }
        return configuration
    }

    /// Checks what SQLite would only report as "unable to open database file".
    private static func checkLocation(_ path: String) throws {
        let fileManager = FileManager.default
        if isOnReadOnlyFileSystem(path) { throw StoreError.readOnlyFileSystem(path: path) }
        var isFolder: ObjCBool = false
        if fileManager.fileExists(atPath: path, isDirectory: &isFolder) {
            if isFolder.boolValue { throw StoreError.pathIsAFolder(path: path) }
            if !fileManager.isReadableFile(atPath: path) || !fileManager.isWritableFile(atPath: path) {
                throw StoreError.permissionDenied(path: path, target: "the file \(path)")
            }
        }
        var folder = (path as NSString).deletingLastPathComponent
        if folder.isEmpty { folder = fileManager.currentDirectoryPath }
        guard fileManager.fileExists(atPath: folder, isDirectory: &isFolder) else {
            throw StoreError.folderMissing(path: path, folder: folder)
        }
        guard isFolder.boolValue else { throw StoreError.folderIsAFile(path: path, folder: folder) }
        if !fileManager.isWritableFile(atPath: folder) {
            throw StoreError.permissionDenied(path: path, target: "the folder \(folder)")
        }
    }

    private static func storeError(_ error: DatabaseError, path: String) -> StoreError {
        switch error.resultCode {
        case .SQLITE_NOTADB, .SQLITE_CORRUPT:
            return .notADatabase(path: path)
        case .SQLITE_PERM, .SQLITE_READONLY, .SQLITE_AUTH:
            return .permissionDenied(path: path, target: "the file \(path)")
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return .locked(path: path)
        default:
            return .cannotOpen(path: path, reason: error.message ?? "\(error)")
        }
    }
}

extension SupportBotDatabase {
    /// Marks a migration this build does not know as applied, as a newer SupportBot would. Tests only.
    func recordFutureMigrationForTesting(_ identifier: String) async throws {
        try await writer.write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES (?)", arguments: [identifier])
        }
    }

    /// The page where `table`'s rows start, and the page size: tests damage that page. Tests only.
    func rootPageForTesting(of table: String) async throws -> (page: Int, size: Int) {
        try await writer.read { db in
            let page = try Int.fetchOne(db, sql: "SELECT rootpage FROM sqlite_master WHERE name = ?",
                                        arguments: [table]) ?? 0
            return (page, try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 4096)
        }
    }

    /// Runs fixed SQL written by a test (for example a trigger that makes one kind of write fail). Tests only.
    func executeForTesting(_ sql: String) async throws {
        try await writer.write { db in try db.execute(sql: sql) }
    }
}

/// A write that failed, and since when no write has succeeded.
public struct WriteFailure: Sendable, Equatable {
    public var reason: String
    public var at: Date
}
