using Junction.Dispatch;

namespace Junction.Audit;

/// <summary>Awaited before every request a read-back makes: the destination's own rate limit, shared with deliveries.</summary>
public delegate ValueTask ReadBackGate(CancellationToken cancellationToken);

/// <summary>
/// The audit's read-back of one state destination: what it really holds of what Junction manages
/// there (the contacts holding each mapped tag, the enrollments of each mapped course, and for email
/// platforms each contact's subscription status). An extension point beside each destination's
/// <see cref="IDestinationConnector"/>: implement it in the destination's folder and register it in
/// <c>Audit/ReadBacks.cs</c>.
/// </summary>
/// <remarks>
/// Prefer bulk reads whose cost grows with tags, courses and pages, not with people (Kit's
/// subscribers of a tag, Mailchimp's members by page, Teachable's enrollments of a course). Await
/// the gate before every request; wait out a 429 (its Retry-After or reset header) and try again;
/// throw <see cref="ReadBackException"/> with a clear message when the read cannot complete.
/// </remarks>
public interface IDestinationReadBack
{
    DestinationConfig Config { get; }

    Task<DestinationReadBack> ReadAsync(ReadBackGate gate, CancellationToken cancellationToken);
}

/// <summary>A read-back that could not complete (credentials refused, the API down past its retries …).</summary>
public sealed class ReadBackException(string message, Exception? inner = null) : Exception(message, inner);
