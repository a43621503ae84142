using System.Security.Cryptography;
using Junction.Config;
using Junction.Storage;

namespace Junction.Intake;

/// <summary>
/// The last step every way in shares (webhooks, forms, the events API): a raw event drafted from the
/// request, appended through the group-commit <see cref="IntakeWriter"/> and answered only once
/// durable, with the intake metrics counted.
/// </summary>
public sealed class RawAppend(IntakeWriter writer, IntakeMetrics metrics, TimeProvider time)
{
    /// <summary>
    /// Stores <paramref name="body"/> under <paramref name="dedupKey"/>, or under its hash when the
    /// sender gave no key (so it is kept, never lost). Either the outcome or the 503 to answer.
    /// </summary>
    public async Task<(AppendOutcome? Outcome, IResult? Problem)> AppendAsync(
        SourceConfig source, HttpRequest request, byte[] body, string? dedupKey, IReadOnlyList<string> keptHeaders, long started)
    {
        // Webhooks open the intake span in HookReceiver (it covers verification); forms and the events API here.
        using var activity = HookReceiver.StartIntakeSpan(request, source.Id);
        var sha = Convert.ToHexStringLower(SHA256.HashData(body));
        var draft = new RawEventDraft(
            Id: Guid.CreateVersion7(time.GetUtcNow()).ToString(),
            Source: source.Id,
            DedupKey: dedupKey ?? HashKey(sha),
            ReceivedAt: time.GetUtcNow(),
            TraceId: HookReceiver.TraceIdOf(request),
            ContentType: request.ContentType ?? "",
            HeadersJson: HookReceiver.HeadersJson(request, keptHeaders),
            Body: body,
            BodySha256: sha);
        try
        {
            // Not cancelled when the client goes away: once queued, the event is stored regardless.
            var outcome = await writer.AppendAsync(draft, CancellationToken.None);
            System.Diagnostics.Activity.Current?.SetTag("junction.raw_id", outcome.Id);
            metrics.Accepted(source.Id, outcome.Duplicate, time.GetElapsedTime(started).TotalSeconds);
            return (outcome, null);
        }
        catch (Exception)
        {
            metrics.Rejected(source.Id, "store_unavailable");
            return (null, Problems.StoreUnavailable());
        }
    }

    /// <summary>The dedup key <see cref="AppendAsync"/> gives a body: the sender's key, else its hash.</summary>
    public static string DedupKeyOf(string? key, byte[] body) => key ?? HashKey(Convert.ToHexStringLower(SHA256.HashData(body)));

    private static string HashKey(string sha256Hex) => "sha256:" + sha256Hex;
}
