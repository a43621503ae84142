using Junction.Canonical;
using Junction.Config;
using Junction.Dispatch;
using Junction.Normalize;
using Junction.Storage;

namespace Junction.Erasure;

/// <summary>How a forget request ended.</summary>
public enum ForgetStatus
{
    Forgotten,

    /// <summary>The address was erased before and nobody holds it now: nothing to do.</summary>
    AlreadyErased,

    NotFound,
}

/// <summary>
/// <paramref name="Destinations"/>: where a deletion was queued; <paramref name="Manual"/>: state destinations whose
/// integration cannot erase through its API, for the operator to clean by hand.
/// </summary>
public sealed record ForgetOutcome(ForgetStatus Status, ErasureResult? Result, string? ErasureId, IReadOnlyList<string> Destinations,
    IReadOnlyList<string> Manual);

/// <summary>
/// <c>junction forget</c> and <c>POST /v1/people/{id}/forget</c> (R8.4): removes a person's personal
/// data from the store in one transaction and queues a deletion at every state destination, tracked
/// like any delivery. The design is in docs/data-rights.md.
/// </summary>
public sealed class ForgetService(IJunctionStore store, JunctionConfig config, TimeProvider time, ILogger<ForgetService> logger,
    Dispatcher? dispatcher = null)
{
    private readonly RelationalStore _store = store as RelationalStore ?? throw new ArgumentException("forget needs the relational store", nameof(store));

    /// <summary>Forgets the person an address or a person id (p_…) names. The address itself is never logged or stored.</summary>
    public async Task<ForgetOutcome> ForgetAsync(string target, string actor, string actorRole, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        target = target.Trim();
        string? personId = null;
        string? hash = null;
        if (target.Contains('@', StringComparison.Ordinal))
        {
            if (Identifiers.NormalizeEmail(target) is not { } email) return new ForgetOutcome(ForgetStatus.NotFound, null, null, [], []);
            hash = ErasureSeal.Hash(await _store.ErasureSaltAsync(ErasureSeal.NewKey, cancellationToken), email);
            var found = await _store.FindPeopleAsync(Identity.IdentifierKey.Email(email), cancellationToken);
            if (found.Count > 0) personId = found[0];
        }
        else
        {
            personId = target;
        }
        var subject = personId is null ? null : await _store.LoadErasureSubjectAsync(personId, cancellationToken);
        if (subject is null)
        {
            var earlier = hash is null ? null : await _store.FindErasureByHashAsync(hash, cancellationToken);
            return new ForgetOutcome(earlier is null ? ForgetStatus.NotFound : ForgetStatus.AlreadyErased, null, earlier, [], []);
        }
        return await ForgetAsync(subject, actor, actorRole, cancellationToken);
    }

    private async Task<ForgetOutcome> ForgetAsync(ErasureSubject subject, string actor, string actorRole, CancellationToken cancellationToken)
    {
        var salt = await _store.ErasureSaltAsync(ErasureSeal.NewKey, cancellationToken);
        var events = subject.EventJson.Select(CanonicalJson.Deserialize).ToList();
        var values = Redaction.PersonalValues(subject.IdentifierValues.Concat(subject.Emails), events);
        var redaction = new Redaction(values);
        var emails = subject.Emails.Concat(events.Select(e => e.Subject.Email).OfType<string>())
            .Concat(events.Select(e => e.Subject.PreviousEmail).OfType<string>())
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var now = time.GetUtcNow();
        var erasureId = "er_" + Guid.CreateVersion7(now).ToString("N");
        var key = ErasureSeal.NewKey();
        var destinations = config.Destinations.Values.Where(d => d.IsState && d.Traits.Erases).Select(d => d.Id).Order(StringComparer.Ordinal).ToList();
        var manual = config.Destinations.Values.Where(d => d.IsState && !d.Traits.Erases).Select(d => d.Id).Order(StringComparer.Ordinal).ToList();
        // Without an address there is nothing a destination could find the contact by.
        var deletions = emails.Count == 0 ? [] : destinations.Select(d => new DeliveryDraft
        {
            Destination = d,
            PersonId = subject.PersonId,
            Kind = DeliveryKinds.Erase,
            EventId = erasureId,
            Payload = ErasureSeal.SealPayload(key, emails),
        }).ToList();
        var result = await _store.EraseAsync(new ErasureWrite
        {
            ErasureId = erasureId,
            Subject = subject,
            Actor = actor,
            ActorRole = actorRole,
            AtMs = now.ToUnixTimeMilliseconds(),
            EmailHashes = [.. emails.Select(e => ErasureSeal.Hash(salt, e))],
            RedactCanonical = redaction.Canonical,
            RedactRaw = redaction.Raw,
            RedactText = redaction.Text,
            Deletions = deletions,
            SealKey = key,
        }, cancellationToken);
        Observability.Log.Forgot(logger, result.PersonId, erasureId, actor, result.Events, result.RawEvents, result.Deliveries);
        if (result.Deliveries > 0) dispatcher?.Wake();
        return new ForgetOutcome(ForgetStatus.Forgotten, result, erasureId, emails.Count == 0 ? [] : destinations, manual);
    }
}
