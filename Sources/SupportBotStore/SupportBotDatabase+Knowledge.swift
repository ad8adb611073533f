import Foundation
internal import GRDB

extension SupportBotDatabase {
    /// Returns the newest version if it has this `contentHash`; otherwise stores `files`
    /// ([relative path: content]) as a new immutable snapshot numbered one above the newest.
    public func registerKnowledgeVersion(
        contentHash: String, files: [String: String], author: String, message: String, at: Date
    ) async throws -> KnowledgeVersion {
        try await write { db in
            let latest = try KnowledgeVersionRecord
                .order(KnowledgeVersionRecord.Columns.number.desc)
                .fetchOne(db)
            if let latest, latest.contentHash == contentHash { return latest.model }
            let version = KnowledgeVersion(
                number: (latest?.number ?? 0) + 1, contentHash: contentHash, createdAt: at,
                author: author, message: message)
            try KnowledgeVersionRecord(version).insert(db)
            for (path, content) in files.sorted(by: { $0.key < $1.key }) {
                try KnowledgeFileRecord(version: version.number, path: path, content: content).insert(db)
            }
            return version
        }
    }

    public func latestKnowledgeVersion() async throws -> KnowledgeVersion? {
        try await writer.read { db in
            try KnowledgeVersionRecord.order(KnowledgeVersionRecord.Columns.number.desc).fetchOne(db)?.model
        }
    }

    /// All versions, oldest first.
    public func knowledgeVersions() async throws -> [KnowledgeVersion] {
        try await writer.read { db in
            try KnowledgeVersionRecord.order(KnowledgeVersionRecord.Columns.number).fetchAll(db).map(\.model)
        }
    }

    /// The files of a version as [relative path: content].
    /// - Throws: `StoreError.unknownKnowledgeVersion` if no such version was registered.
    public func knowledgeFiles(version: Int) async throws -> [String: String] {
        try await writer.read { db in
            guard try KnowledgeVersionRecord.exists(db, key: version) else {
                throw StoreError.unknownKnowledgeVersion(number: version)
            }
            let files = try KnowledgeFileRecord
                .filter(KnowledgeFileRecord.Columns.version == version)
                .fetchAll(db)
            return Dictionary(uniqueKeysWithValues: files.map { ($0.path, $0.content) })
        }
    }
}
