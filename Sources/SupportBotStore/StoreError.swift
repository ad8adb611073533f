import Foundation

/// Everything the store can refuse, each with a message a user can act on.
public enum StoreError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The folder that should contain the database file does not exist.
    case folderMissing(path: String, folder: String)
    /// Something that is not a folder sits where the database's folder should be.
    case folderIsAFile(path: String, folder: String)
    /// The database path names a folder, not a file.
    case pathIsAFolder(path: String)
    /// No read/write access to the file, or no write access to its folder (SQLite creates -wal and -shm files there).
    case permissionDenied(path: String, target: String)
    /// The file is on a file system mounted read-only.
    case readOnlyFileSystem(path: String)
    /// A page of the file is damaged (found while reading or writing it, after it opened).
    case damaged(path: String?)
    /// The disk the file is on is full.
    case diskFull(path: String?)
    /// The operating system could not read or write the file.
    case ioError(path: String?, reason: String)
    /// The file exists but is not a SQLite database (or is encrypted or damaged).
    case notADatabase(path: String)
    /// The database was migrated by a newer SupportBot: these migrations are unknown to this build.
    case newerSchema(path: String, unknownMigrations: [String])
    /// Another process keeps the database locked for longer than the busy timeout.
    case locked(path: String)
    /// Any other reason SQLite gave for not opening the file.
    case cannotOpen(path: String, reason: String)
    case unknownSession(id: String)
    case duplicateSession(id: String)
    case unknownKnowledgeVersion(number: Int)
    /// Another agent already has this name (names are compared without regard to case).
    case duplicateAgent(name: String)
    /// An agent name must be 1 to 40 letters, digits, spaces, '-', '_' or '.'.
    case invalidAgentName(name: String)
    /// The session already has a waiting or assigned ticket.
    case ticketAlreadyOpen(sessionID: String, ticket: Int64)
    /// A rating must be 1...5.
    case invalidRating(score: Int)
    /// A row this build can't interpret (written by a newer version, or edited by hand).
    case unreadableRecord(String)

    public var description: String {
        switch self {
        case let .folderMissing(path, folder):
            return "Can't open the database at \(path): the folder \(folder) does not exist. "
                + "Create it or pass --db with another path."
        case let .folderIsAFile(path, folder):
            return "Can't open the database at \(path): \(folder) is a file, not a folder. "
                + "Pass --db with a path inside an existing folder."
        case let .pathIsAFolder(path):
            return "Can't open the database at \(path): that is a folder. "
                + "Pass --db with a file name, e.g. \(path)/supportbot.sqlite."
        case let .permissionDenied(path, target):
            return "Can't open the database at \(path): permission denied on \(target) "
                + "(SupportBot needs to read and write the file and to create -wal and -shm files next to it). "
                + "Fix the permissions or pass --db with another path."
        case let .readOnlyFileSystem(path):
            return "Can't write the database at \(path): the file system it is on is read-only (mounted read-only, "
                + "or a snapshot). Commands that only read it (transcript, queue, agents list, kb versions, "
                + "kb unanswered) still work. To serve or change it, copy the file somewhere writable and pass --db "
                + "with the copy."
        case let .damaged(path):
            return "The database \(path.map { "at \($0) " } ?? "")is damaged: SQLite found a broken page. Stop the "
                + "server and keep a copy of the file as it is. Then restore the newest backup (docs/operations.md, "
                + "Backups); `sqlite3 FILE .recover` can often save what is left."
        case let .diskFull(path):
            return "Can't write the database\(path.map { " at \($0)" } ?? ""): the disk is full. Free some space; "
                + "nothing stored so far is lost."
        case let .ioError(path, reason):
            return "Can't read or write the database\(path.map { " at \($0)" } ?? ""): the disk reported an error "
                + "(\(reason)). Check the disk and the file system's log (dmesg)."
        case let .notADatabase(path):
            return "Can't open the database at \(path): the file is not a SQLite database (or it is encrypted "
                + "or damaged). Pass --db with the path of a SupportBot database, or move the file away to "
                + "start a new one."
        case let .newerSchema(path, unknownMigrations):
            return "Can't open the database at \(path): it was written by a newer version of SupportBot "
                + "(unknown migrations: \(unknownMigrations.joined(separator: ", "))). "
                + "Upgrade supportbot, or pass --db with another path."
        case let .locked(path):
            return "Can't use the database at \(path): another process keeps it locked. "
                + "Stop the other supportbot process or pass --db with another path."
        case let .cannotOpen(path, reason):
            return "Can't open the database at \(path): \(reason). Check the path or pass --db with another path."
        case let .unknownSession(id):
            return "Unknown session \"\(id)\": it was never created in this database (or it was deleted). "
                + "Start a new session."
        case let .duplicateSession(id):
            return "A session with id \"\(id)\" already exists. Use a new session id."
        case let .unknownKnowledgeVersion(number):
            return "Unknown knowledge-base version \(number). "
                + "List the stored versions and pick one of them."
        case let .duplicateAgent(name):
            let argument = name.contains(" ") ? "\"\(name)\"" : name
            return "An agent called \"\(name)\" already exists. Pick another name, or remove the old one with "
                + "`supportbot agents remove \(argument)`."
        case let .invalidAgentName(name):
            return "\"\(name)\" can't be an agent name: use 1 to 40 letters, digits, spaces, '-', '_' or '.'."
        case let .ticketAlreadyOpen(sessionID, ticket):
            return "Session \"\(sessionID)\" already has an open handoff ticket (#\(ticket)). "
                + "Add to that ticket, or close it before opening another one."
        case let .invalidRating(score):
            return "A rating must be a whole number from 1 to 5, not \(score)."
        case let .unreadableRecord(what):
            return "The database holds a record this version of SupportBot can't read: \(what). "
                + "Upgrade supportbot or restore the database from a backup."
        }
    }
}
