using System.Diagnostics;
using System.Threading.Channels;
using System.Security.Cryptography;
using System.Text;
using Junction.Canonical;
using Junction.Config;
using Junction.Identity;
using Junction.Normalize;
using Junction.State;
using Junction.Storage;

namespace Junction.Project;

public sealed record RebuildReport(long Events, int People, int Merges, string Before, string After, int Changed, TimeSpan Elapsed)
{
    /// <summary>Seconds per phase (read, identity, fold, write), for the benchmark.</summary>
    public IReadOnlyList<(string Phase, double Seconds)> Phases { get; init; } = [];

    public bool Identical => Before == After;
    public double EventsPerSecond => Elapsed.TotalSeconds > 0 ? Events / Elapsed.TotalSeconds : Events;
}

/// <summary>Progress of a rebuild: the phase, how far it is, and of how much.</summary>
public interface IRebuildProgress
{
    void Report(string phase, long done, long total);
}

/// <summary>
/// Recomputes every person from the log: one serial identity pass in log order (the same decisions
/// the projector made, so the same person ids), then every person's fold in parallel at one instant,
/// then one transaction that replaces the derived tables. Overrides are kept and re-applied.
/// </summary>
public sealed class PeopleRebuild(IJunctionStore store, JunctionConfig config, Leadership? lease = null)
{
    private const int PageSize = 20_000;
    private readonly RelationalStore _store = (RelationalStore)store;

    /// <summary>SHA-256 over every surviving person's id and state digest, in id order: equal states, equal digest.</summary>
    public static string CombinedDigest(IEnumerable<(string PersonId, string Digest)> people)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (id, digest) in people.OrderBy(p => p.PersonId, StringComparer.Ordinal))
        {
            sha.AppendData(Encoding.UTF8.GetBytes(id + " " + digest + "\n"));
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    public async Task<string> CurrentDigestAsync(CancellationToken cancellationToken) =>
        CombinedDigest(await _store.ListDigestsAsync(cancellationToken));

    public async Task<RebuildReport> RunAsync(DateTimeOffset asOf, IRebuildProgress? progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var phases = new List<(string, double)>();
        var lap = Stopwatch.StartNew();
        void Lap(string phase)
        {
            phases.Add((phase, lap.Elapsed.TotalSeconds));
            lap.Restart();
        }
        var storedDigests = (await _store.ListDigestsAsync(cancellationToken)).ToDictionary(d => d.PersonId, d => d.Digest, StringComparer.Ordinal);
        var before = CombinedDigest(storedDigests.Select(kv => (kv.Key, kv.Value)));

        // 1+2. Read the log and parse each page in parallel on one side, resolve identities serially
        // in log order on the other, so identity overlaps reading and parsing.
        var total = await _store.MaxCanonicalSeqAsync(cancellationToken);
        var seqs = new List<long>();
        var events = new List<CanonicalEvent>();
        var personAtList = new List<string?>();
        var pages = Channel.CreateBounded<(IReadOnlyList<ProjectRow> Rows, CanonicalEvent[] Parsed)>(2);
        var reader = Task.Run(async () =>
        {
            try
            {
                long after = 0;
                while (true)
                {
                    var rows = await _store.ReadProjectRowsAsync(after, PageSize, cancellationToken, withTrace: false);
                    if (rows.Count == 0) break;
                    var parsed = new CanonicalEvent[rows.Count];
                    Parallel.For(0, rows.Count, new ParallelOptions { CancellationToken = cancellationToken }, i => parsed[i] = CanonicalJson.Deserialize(rows[i].Json));
                    await pages.Writer.WriteAsync((rows, parsed), cancellationToken);
                    after = rows[^1].Seq;
                }
                pages.Writer.Complete();
            }
            catch (Exception ex)
            {
                pages.Writer.Complete(ex);
            }
        }, cancellationToken);
        var graph = new InMemoryIdentityGraph(config.Policy.Identity);
        await foreach (var (rows, parsed) in pages.Reader.ReadAllAsync(cancellationToken))
        {
            for (var i = 0; i < parsed.Length; i++)
            {
                seqs.Add(rows[i].Seq);
                events.Add(parsed[i]);
                personAtList.Add(graph.Resolve(parsed[i]).PersonId);
            }
            progress?.Report("reading, resolving", rows[^1].Seq, total);
        }
        await reader;
        Lap("read+identity");
        var logSeq = new List<(IdentityLogEntry, long)>();
        {
            // Each log entry happened at the event that caused it.
            var seqOfEvent = new Dictionary<string, long>(StringComparer.Ordinal);
            for (var i = 0; i < events.Count; i++) seqOfEvent.TryAdd(events[i].Id, seqs[i]);
            foreach (var entry in graph.Log) logSeq.Add((entry, entry.EventId is { } id && seqOfEvent.TryGetValue(id, out var s) ? s : 0));
        }

        // 3. Group each event under its surviving person.
        var byPerson = new Dictionary<string, List<CanonicalEvent>>(StringComparer.Ordinal);
        var personEvents = new List<(string, string, long)>(events.Count);
        for (var i = 0; i < events.Count; i++)
        {
            if (personAtList[i] is not { } at) continue;
            var survivor = graph.Canonical(at) ?? at;
            if (!byPerson.TryGetValue(survivor, out var list)) byPerson[survivor] = list = [];
            list.Add(events[i]);
            personEvents.Add((events[i].Id, survivor, seqs[i]));
        }
        var overrides = new Dictionary<string, List<OperatorOverride>>(StringComparer.Ordinal);
        var storedOverrides = await _store.LoadOverridesAsync(null, 0, cancellationToken);
        foreach (var o in storedOverrides)
        {
            if (graph.Canonical(o.PersonId) is not { } survivor) continue;
            if (!overrides.TryGetValue(survivor, out var list)) overrides[survivor] = list = [];
            list.Add(o.Override);
        }

        // 4. Fold every person in parallel at one instant.
        var people = byPerson.Keys.Concat(overrides.Keys.Where(k => !byPerson.ContainsKey(k))).Distinct(StringComparer.Ordinal).ToArray();
        var writes = new PersonWrite?[people.Length];
        var timers = new (string, IReadOnlyList<TimerState>)[people.Length];
        var folded = 0L;
        Parallel.For(0, people.Length, new ParallelOptions { CancellationToken = cancellationToken }, i =>
        {
            var id = people[i];
            if (graph.Person(id) is not { } identity) return;
            var fold = new PersonFold(config.Policy);
            if (byPerson.TryGetValue(id, out var list))
            {
                list.Sort(PersonFold.EventOrder.Instance);
                foreach (var e in list) fold.Apply(e);
            }
            if (overrides.TryGetValue(id, out var os)) foreach (var o in os) fold.ApplyOverride(o);
            var state = fold.Snapshot(asOf);
            var (json, digest) = state.ToJsonWithDigest();
            writes[i] = new PersonWrite(identity, json, digest, State: state);
            timers[i] = (id, state.Timers);
            var n = Interlocked.Increment(ref folded);
            if ((n & 0x3FFF) == 0) progress?.Report("folding person state", n, people.Length);
        });
        progress?.Report("folding person state", people.Length, people.Length);
        var personWrites = writes.Where(w => w is not null).Select(w => w!).ToList();

        var changes = new List<StateChangeRow>();
        foreach (var w in personWrites)
        {
            if (storedDigests.GetValueOrDefault(w.Identity.Id) != w.Digest)
            {
                changes.Add(new StateChangeRow(w.Identity.Id, asOf, "rebuild", null, ["recomputed by junction rebuild"], w.Digest, null));
            }
        }
        var merged = graph.Log.Where(l => l.Kind == "merge" && l.MergedId is not null)
            .Select(l => (l.MergedId!, graph.Canonical(l.MergedId!) ?? l.PersonId, l.At)).ToList();

        Lap("fold");
        // 5. Replace the derived tables in one transaction.
        var written = personEvents.Count + personWrites.Count;
        await _store.ReplaceProjectionAsync(new RebuildWrite
        {
            Cursor = seqs.Count > 0 ? seqs[^1] : await _store.GetCursorAsync(RelationalStore.ProjectCursor, cancellationToken),
            OverrideCursor = storedOverrides.Count > 0 ? storedOverrides[^1].Seq : null,
            People = personWrites,
            Merged = merged,
            PersonEvents = personEvents,
            Log = logSeq,
            Conflicts = graph.Conflicts,
            Timers = [.. timers.Where(t => t.Item1 is not null)],
            Changes = changes,
            At = asOf,
        }, progress is null ? null : new Progress<int>(n => progress.Report("writing", n, written)), cancellationToken, lease);
        progress?.Report("writing", written, written);

        Lap("write");
        var afterDigest = CombinedDigest(personWrites.Select(w => (w.Identity.Id, w.Digest)));
        return new RebuildReport(events.Count, personWrites.Count, merged.Count, before, afterDigest, changes.Count, clock.Elapsed) { Phases = phases };
    }
}

/// <summary>A clock stopped at one instant: a rebuild and the catch-up before it see the same "now".</summary>
public sealed class FixedTime(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}
