using System.Text.Json;
using Junction.Config;
using Junction.Dispatch;
using Junction.Identity;
using Junction.Normalize;
using Junction.State;
using Junction.Storage;

namespace Junction.Audit;

/// <summary>What to audit: all on demand, or one object (payments, enrollments, tags) on its schedule.</summary>
public sealed record AuditRequest
{
    public required string Trigger { get; init; }
    public TimeSpan? Window { get; init; }
    public bool? Heal { get; init; }

    /// <summary>Which read-backs to make (<see cref="AuditObjects"/>); null = all.</summary>
    public IReadOnlySet<string>? Objects { get; init; }

    /// <summary>Lines of progress ("reading kit-main: 3 pages").</summary>
    public IProgress<string>? Progress { get; init; }
}

public sealed record AuditOutcome(string Id, string Status, AuditResult? Result, IReadOnlyList<string> ReadErrors, int ApiCalls);

/// <summary>
/// The audit stage: reads back what each tool holds, runs <see cref="AuditRules"/> against the
/// ledger and the desired state, stores the report and its findings, and heals through the normal
/// machinery — a re-sync delivery that diffs against what the tool really holds (written with the
/// findings in one transaction), a backfill of a missed payment through intake's dedupe.
/// </summary>
public sealed class AuditRunner(
    JunctionConfig config, IJunctionStore store, IHttpClientFactory http, TimeProvider time, PaymentReadBacks payments,
    AuditMetrics metrics, IServiceProvider services)
{
    /// <summary>Of each destination's token bucket, the part kept for deliveries while an audit reads.</summary>
    public const double DeliveryReserve = 0.5;

    private readonly RelationalStore _store = store as RelationalStore ?? throw new ArgumentException("the audit needs the relational store", nameof(store));
    private readonly Dictionary<string, DestinationRuntime> _ownRuntimes = new(StringComparer.Ordinal);

    public async Task<string> StartAsync(AuditRequest request, CancellationToken cancellationToken)
    {
        var (id, from, to) = await BeginAsync(request, cancellationToken);
        _ = Task.Run(() => RunCoreAsync(id, from, to, request, CancellationToken.None), CancellationToken.None);
        return id;
    }

    public async Task<AuditOutcome> RunAsync(AuditRequest request, CancellationToken cancellationToken)
    {
        var (id, from, to) = await BeginAsync(request, cancellationToken);
        return await RunCoreAsync(id, from, to, request, cancellationToken);
    }

    private async Task<(string Id, DateTimeOffset From, DateTimeOffset To)> BeginAsync(AuditRequest request, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var id = "aud_" + Guid.CreateVersion7(now).ToString("N");
        var from = now - (request.Window ?? config.Audits.Window);
        await _store.InsertAuditAsync(id, request.Trigger, now.ToUnixTimeMilliseconds(), from.ToUnixTimeMilliseconds(), now.ToUnixTimeMilliseconds(), cancellationToken);
        return (id, from, now);
    }

    private async Task<AuditOutcome> RunCoreAsync(string id, DateTimeOffset from, DateTimeOffset to, AuditRequest request, CancellationToken cancellationToken)
    {
        // The audit's own trace: its heal deliveries carry the same id (TraceIdOf), so their dispatch spans join it.
        using var activity = Telemetry.StageTracing.Start(Telemetry.StageTracing.Audit, "audit", TraceIdOf(id));
        activity?.SetTag("junction.audit_id", id);
        activity?.SetTag("junction.trigger", request.Trigger);
        try
        {
            var objects = request.Objects ?? AuditObjects.All.ToHashSet(StringComparer.Ordinal);
            var people = await PeopleAsync(cancellationToken);
            var optins = await OptinsAsync(cancellationToken);
            var firstLead = optins.GroupBy(o => o.PersonId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Min(o => o.At), StringComparer.Ordinal);
            people = [.. people.Select(p => p with { FirstLeadAt = firstLead.TryGetValue(p.PersonId, out var at) ? at : p.State.Consent.Where(c => c.Granted).Select(c => (DateTimeOffset?)c.At).Min() })];

            var errors = new List<string>();
            var calls = 0;
            var readBacks = new Dictionary<string, DestinationReadBack>(StringComparer.Ordinal);
            foreach (var d in config.Destinations.Values.Where(d => d.IsState && Wanted(d, objects)).OrderBy(d => d.Id, StringComparer.Ordinal))
            {
                if (ReadBacks.Create(d, http.CreateClient(Dispatch.Destinations.DestinationConnectors.HttpClientName), time) is not { } reader) continue;
                request.Progress?.Report($"reading back {d.Id}");
                try
                {
                    var read = await reader.ReadAsync(GateFor(d), cancellationToken);
                    readBacks[d.Id] = read;
                    calls += read.ApiCalls;
                    request.Progress?.Report($"read back {d.Id}: {read.Contacts.Count} contacts, {read.ApiCalls} calls");
                }
                catch (ReadBackException ex)
                {
                    errors.Add($"{d.Id}: {ex.Message}");
                }
            }
            var listings = new Dictionary<string, PaymentListing>(StringComparer.Ordinal);
            if (objects.Contains(AuditObjects.Payments))
            {
                foreach (var source in payments.Readable())
                {
                    request.Progress?.Report($"reading back payments of {source.Id}");
                    try
                    {
                        var listing = await payments.ReadAsync(source, from, cancellationToken);
                        listings[source.Id] = listing;
                        calls += listing.ReadBack.ApiCalls;
                    }
                    catch (ReadBackException ex)
                    {
                        errors.Add($"{source.Id}: {ex.Message}");
                    }
                }
            }

            var result = AuditRules.Run(new AuditInput
            {
                From = from, To = to, Policy = config.Policy, Settings = config.Audits, Destinations = [.. config.Destinations.Values],
                People = people, Optins = optins, ReadBacks = readBacks,
                Payments = listings.ToDictionary(l => l.Key, l => l.Value.ReadBack, StringComparer.Ordinal),
                Accepted = await _store.AcceptedFingerprintsAsync(cancellationToken),
                TagSends = await TagSendsAsync(people, from, cancellationToken),
            });

            var heal = request.Heal ?? config.Audits.Heal;
            var heals = new Dictionary<(string, string), HealWrite>();
            var status = new Dictionary<AuditFinding, string>();
            var byId = people.ToDictionary(p => p.PersonId, StringComparer.Ordinal);
            var findings = result.Points.SelectMany(p => p.Findings).ToList();
            foreach (var plan in result.Heals)
            {
                if (!heal) break;
                if (plan is { Action: HealActions.Resync, Destination: { } destination, PersonId: { } personId }
                    && config.Destinations.TryGetValue(destination, out var d) && byId.TryGetValue(personId, out var person)
                    && DeliveryPlanner.Desired(d, person.Identity, person.State) is { } desired)
                {
                    heals[(destination, personId)] = new HealWrite(destination, personId, DeliveryPlanner.SerializeDesired(desired),
                        plan.Observed is { } baseline ? DeliveryPlanner.SerializeDesired(baseline) : null, TraceIdOf(id));
                }
                else if (plan is { Action: HealActions.Backfill, Source: { } source, OrderId: { } orderId }
                    && listings.TryGetValue(source, out var listing) && listing.Items.TryGetValue(orderId, out var items))
                {
                    await store.AppendRawAsync(payments.Drafts(source, items), cancellationToken);
                    if (services.GetService(typeof(NormalizeSignal)) is NormalizeSignal signal) signal.Notify();
                    foreach (var f in findings.Where(f => f.HealAction == HealActions.Backfill && f.Source == source && f.OrderId == orderId)) status[f] = HealStatuses.Queued;
                }
            }
            foreach (var f in findings)
            {
                if (status.ContainsKey(f)) continue;
                status[f] = f.HealAction switch
                {
                    HealActions.Resync when heal && f.Destination is { } dd && f.PersonId is { } pp && heals.ContainsKey((dd, pp)) => HealStatuses.Queued,
                    HealActions.Resync or HealActions.Backfill => heal ? HealStatuses.Skipped : HealStatuses.Planned,
                    _ => HealStatuses.ReportOnly,
                };
            }

            var reconciliation = ReconciliationRate(people, from, to);
            var report = JsonSerializer.Serialize(new StoredReport(
                [.. result.Points.Select(p => new StoredPoint(p.Point.Number, p.Checked, p.Mismatches, p.Threshold, p.RevenueAtRisk))], errors, calls, reconciliation),
                AuditJson.Default.StoredReport);
            await _store.CompleteAuditAsync(id, time.GetUtcNow().ToUnixTimeMilliseconds(), "completed", report, errors.Count == 0 ? null : string.Join("; ", errors),
                findings, heals, status, cancellationToken);
            if (heals.Count > 0 && services.GetService(typeof(Dispatcher)) is Dispatcher dispatcher) dispatcher.Wake();
            metrics.Report(result, reconciliation);
            return new AuditOutcome(id, "completed", result, errors, calls);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await _store.FailAuditAsync(id, time.GetUtcNow().ToUnixTimeMilliseconds(), ex.Message, CancellationToken.None);
            return new AuditOutcome(id, "failed", null, [ex.Message], 0);
        }
    }

    /// <summary>Share of paid orders in the window whose buyer was a lead before paying (R7.1's reconciliation rate).</summary>
    private static double? ReconciliationRate(IReadOnlyList<AuditPerson> people, DateTimeOffset from, DateTimeOffset to)
    {
        var (paid, matched) = (0, 0);
        foreach (var p in people.Where(p => !p.Test))
        {
            foreach (var o in p.State.Orders.Where(o => o.PaidAt is { } at && at >= from && at <= to && o.Status is not (OrderStatuses.Pending or OrderStatuses.Failed)))
            {
                paid++;
                if (p.FirstLeadAt is { } lead && lead <= o.PaidAt) matched++;
            }
        }
        return paid == 0 ? null : (double)matched / paid;
    }

    private static bool Wanted(DestinationConfig d, IReadOnlySet<string> objects) =>
        (d.Courses.Count > 0 && objects.Contains(AuditObjects.Enrollments)) || (d.Courses.Count == 0 && objects.Contains(AuditObjects.Tags));

    /// <summary>Awaited before each read-back request: the destination's own token bucket, keeping <see cref="DeliveryReserve"/> for deliveries.</summary>
    public ReadBackGate GateFor(DestinationConfig d)
    {
        var runtime = (services.GetService(typeof(Dispatcher)) as Dispatcher)?.Runtime(d.Id) ?? OwnRuntime(d);
        return async cancellationToken =>
        {
            while (true)
            {
                var now = time.GetUtcNow();
                if (runtime.HoldUntil > now) await Task.Delay(runtime.HoldUntil - now, time, cancellationToken);
                else if (runtime.TryTakeReserving(DeliveryReserve)) return;
                else await Task.Delay(TimeSpan.FromMilliseconds(Math.Max(10, 1000 / Math.Max(d.RateLimit, 0.001))), time, cancellationToken);
            }
        };
    }

    // Outside `serve` (the CLI) there is no dispatcher: the audit keeps the same reserve of its own bucket.
    private DestinationRuntime OwnRuntime(DestinationConfig d)
    {
        lock (_ownRuntimes)
        {
            if (!_ownRuntimes.TryGetValue(d.Id, out var runtime))
            {
                runtime = new DestinationRuntime(null, d, new DispatchOptions(), time);
                _ownRuntimes[d.Id] = runtime;
            }
            return runtime;
        }
    }

    private async Task<List<AuditPerson>> PeopleAsync(CancellationToken cancellationToken)
    {
        var snapshot = await _store.LoadIdentityAsync(cancellationToken);
        var identifiers = snapshot.Identifiers.GroupBy(i => i.PersonId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => (IReadOnlyList<IdentifierEntry>)[.. g.Select(i => i.Entry)], StringComparer.Ordinal);
        var identities = snapshot.People.ToDictionary(p => p.PersonId, StringComparer.Ordinal);
        var people = new List<AuditPerson>();
        foreach (var (personId, json) in await _store.LoadPeopleStatesAsync(cancellationToken))
        {
            if (!identities.TryGetValue(personId, out var stored)) continue;
            var state = JsonSerializer.Deserialize<PersonState>(json, PersonState.JsonOptions)!;
            people.Add(new AuditPerson
            {
                PersonId = personId,
                State = state,
                Test = state.Test,
                Identity = new PersonIdentity
                {
                    Id = personId, FirstSeenAt = stored.FirstSeenAt, PrimaryEmail = stored.PrimaryEmail, PurchaseEmail = stored.PurchaseEmail,
                    Identifiers = identifiers.GetValueOrDefault(personId) ?? [],
                },
            });
        }
        return people;
    }

    private async Task<IReadOnlyList<TagSends>> TagSendsAsync(IReadOnlyList<AuditPerson> people, DateTimeOffset from, CancellationToken cancellationToken)
    {
        var sends = (await _store.LoadStateSendsAsync(from.ToUnixTimeMilliseconds(), cancellationToken))
            .Select(s => new StateSend(s.Destination, s.PersonId, DeliveryPlanner.DeserializeDesired(s.Payload).Tags, DateTimeOffset.FromUnixTimeMilliseconds(s.CompletedAt)));
        return TagSendLog.Count(sends, people.ToDictionary(p => p.PersonId, p => p.State, StringComparer.Ordinal), [.. config.Destinations.Values], config.Policy);
    }

    private async Task<List<OptinFact>> OptinsAsync(CancellationToken cancellationToken)
    {
        var facts = new List<OptinFact>();
        foreach (var (eventId, personId, json) in await _store.LoadOptinsAsync(cancellationToken))
        {
            var e = CanonicalJson.Deserialize(json);
            var granted = e.Consent.Any(c => string.Equals(c.Channel, "email", StringComparison.OrdinalIgnoreCase) && c.Granted);
            facts.Add(new OptinFact(personId, eventId, e.Source, e.OccurredAt, granted));
        }
        return facts;
    }

    private static string TraceIdOf(string auditId) => auditId.Length >= 36 ? auditId[4..36] : auditId;
}

/// <summary>The stored report: per point the figures, and the reconciliation rate (null: no paid order in the window, or an older report); findings live in their own table.</summary>
public sealed record StoredReport(IReadOnlyList<StoredPoint> Points, IReadOnlyList<string> ReadErrors, int ApiCalls, double? Reconciliation = null);

public sealed record StoredPoint(int Point, int Checked, int Mismatches, double Threshold, IReadOnlyDictionary<string, long> RevenueAtRisk);
