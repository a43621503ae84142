namespace Junction.Storage;

/// <summary>The durable store. One implementation per engine over shared ADO.NET code (<see cref="RelationalStore"/>).</summary>
public interface IJunctionStore : IAsyncDisposable
{
    string Engine { get; }

    Task MigrateAsync(CancellationToken cancellationToken);

    Task<bool> PingAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Appends a batch in one transaction and returns one outcome per draft, in order. When this
    /// returns, every new event is durable. Drafts must have distinct (source, dedup key) pairs.
    /// </summary>
    Task<IReadOnlyList<AppendOutcome>> AppendRawAsync(IReadOnlyList<RawEventDraft> batch, CancellationToken cancellationToken);

    /// <summary>Raw events in log order after <paramref name="after"/> (an opaque cursor from a previous page).</summary>
    Task<RawEventPage> ListRawAsync(string? source, string? after, int limit, CancellationToken cancellationToken);

    Task<RawEvent?> GetRawAsync(string id, CancellationToken cancellationToken);

    Task<long> CountRawAsync(string? source, CancellationToken cancellationToken);

    /// <summary>Appends rejections and trims the table to <paramref name="keep"/> most recent rows.</summary>
    Task AppendRejectionsAsync(IReadOnlyList<Rejection> rejections, int keep, CancellationToken cancellationToken);

    Task<IReadOnlyList<Rejection>> ListRejectionsAsync(string? source, int limit, CancellationToken cancellationToken);

    /// <summary>True when <paramref name="cursor"/> is a cursor this engine could have produced.</summary>
    bool IsValidCursor(string cursor);

    // Normalization: the stage after intake reads the raw log from a cursor and writes its outcome,
    // its canonical events and the cursor in one transaction.

    Task<IReadOnlyList<StoredRaw>> ReadRawAfterAsync(long afterSeq, int limit, CancellationToken cancellationToken);

    Task<StoredRaw?> GetStoredRawAsync(string rawId, CancellationToken cancellationToken);

    Task<long> GetCursorAsync(string name, CancellationToken cancellationToken);

    /// <summary>
    /// Commits outcomes, their canonical events and the cursor in one transaction. With a lease, the
    /// commit is fenced: it rolls back with <see cref="LeadershipLostException"/> when another node
    /// has taken the role since. Transactions that insert canonical events commit in seq order.
    /// </summary>
    Task CommitNormalizationAsync(IReadOnlyList<NormalizationOutcome> outcomes, string? cursorName, long cursorPosition,
        DriftUpdate? drift, CancellationToken cancellationToken, Leadership? lease = null);

    /// <summary>True when the database refused a value itself (bad data, not a lost connection): retrying cannot help.</summary>
    bool IsDataRejection(System.Data.Common.DbException exception);

    Task<IReadOnlyList<StoredRaw>> DuePendingAsync(long nowMs, int limit, CancellationToken cancellationToken);

    Task<long?> NextPendingAtAsync(CancellationToken cancellationToken);

    Task SaveEnrichmentAsync(string rawId, string key, string json, CancellationToken cancellationToken);

    Task<IReadOnlyDictionary<string, string>> GetEnrichmentsAsync(string rawId, CancellationToken cancellationToken);

    Task<NormalizationState?> GetNormalizationAsync(string rawId, CancellationToken cancellationToken);

    Task<(IReadOnlyList<QuarantineItem> Items, string? Next)> ListQuarantineAsync(string? source, long after, int limit, CancellationToken cancellationToken);

    /// <summary>Raw events in a normalization status (quarantined, pending …), in log order.</summary>
    Task<(IReadOnlyList<QuarantineItem> Items, string? Next)> ListByStatusAsync(string status, string? source, long after, int limit, CancellationToken cancellationToken);

    Task<int> RequeueQuarantinedAsync(IReadOnlyList<string>? rawIds, string? source, long nowMs, CancellationToken cancellationToken);

    Task<CanonicalPage> ListCanonicalAsync(string? rawId, string? source, string? type, long after, int limit, CancellationToken cancellationToken);

    Task<Dictionary<(string Source, string ProviderType), DriftTypeState>> LoadDriftAsync(CancellationToken cancellationToken);

    Task<IReadOnlyList<DriftChange>> ListDriftChangesAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Holds the named role (one node at a time) while the returned handle lives; null when another
    /// node has it. The handle carries the epoch that fences the stage's commits.
    /// </summary>
    Task<Leadership?> TryLeadAsync(string role, CancellationToken cancellationToken);

    // Dispatch: the delivery outbox (RelationalStore.Dispatch.cs). The projector writes drafts inside
    // its own transaction through RelationalStore.InsertDeliveryDraftsAsync.

    /// <summary>Writes delivery drafts in a transaction of their own (tests, tools); returns how many were new.</summary>
    Task<int> EnqueueDeliveriesAsync(IReadOnlyList<Junction.Dispatch.DeliveryDraft> drafts, CancellationToken cancellationToken);

    Task<IReadOnlyList<ClaimedDelivery>> ClaimDeliveriesAsync(string destination, string owner, int limit, TimeSpan lease, CancellationToken cancellationToken);

    Task<int> RenewLeasesAsync(IReadOnlyList<long> ids, string owner, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>Gives claimed tasks back unattempted: pending again (held if the destination is paused), the claim's attempt uncounted.</summary>
    Task<int> ReleaseDeliveriesAsync(IReadOnlyList<long> ids, string owner, CancellationToken cancellationToken);

    Task<bool> CompleteDeliveryAsync(DeliveryCompletion completion, CancellationToken cancellationToken);

    /// <summary>Several completions in one transaction; one result each, in order.</summary>
    Task<IReadOnlyList<bool>> CompleteDeliveriesAsync(IReadOnlyList<DeliveryCompletion> completions, CancellationToken cancellationToken);

    Task<string?> GetSyncedAsync(string destination, string personId, CancellationToken cancellationToken);

    Task<DeliveryPage> ListDeliveriesAsync(DeliveryQuery query, CancellationToken cancellationToken);

    Task<DeliveryRow?> GetDeliveryAsync(long id, CancellationToken cancellationToken);

    Task<IReadOnlyDictionary<long, IReadOnlyList<DeliveryAttemptRecord>>> ListDeliveryAttemptsAsync(IReadOnlyList<long> ids, CancellationToken cancellationToken);

    Task<int> ReplayDeadAsync(ReplayFilter filter, CancellationToken cancellationToken);

    Task<bool> PauseDestinationAsync(string destination, string? reason, CancellationToken cancellationToken);

    Task<int> ResumeDestinationAsync(string destination, CancellationToken cancellationToken);

    Task<IReadOnlyList<DestinationControl>> ListDestinationControlAsync(CancellationToken cancellationToken);

    Task<IReadOnlyList<DestinationBacklog>> CountOpenDeliveriesAsync(CancellationToken cancellationToken);

    Task<long?> NextDeliveryDueAsync(string destination, CancellationToken cancellationToken);

    /// <summary>Due pending tasks (kind, payload) of the people whose tasks <paramref name="held"/> wait for a batch.</summary>
    Task<IReadOnlyList<(string Kind, string Payload)>> ListDueBehindAsync(string destination, IReadOnlyList<long> held, CancellationToken cancellationToken);

    /// <summary>Drops an erasure's seal key once every one of its destination deletions succeeded (crypto-shredding the sealed addresses).</summary>
    Task ShredErasureKeyAsync(string erasureId, CancellationToken cancellationToken);

    /// <summary>
    /// Takes up to <paramref name="want"/> tokens from the destination's cluster-wide send-rate bucket
    /// (refilled at <paramref name="ratePerSecond"/>, capped at <paramref name="burst"/>), atomically
    /// across nodes. Granted may be fewer than wanted, or none.
    /// </summary>
    Task<RateGrant> TakeRateTokensAsync(string destination, double ratePerSecond, double burst, int want, CancellationToken cancellationToken);
}
