using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Junction.Observability;
using Junction.State;
using Junction.Storage;
using nietras.SeparatedValues;

namespace Junction.Export;

public enum ExportFormat
{
    Csv,
    Jsonl,
}

/// <summary>
/// <c>junction export people|orders|ledger</c>: streams from the store in keyset pages of
/// <see cref="PageSize"/>, writing each page before reading the next, so memory stays flat however
/// large the store. CSV starts with its header row (also when nothing matches); JSONL is one object a line.
/// </summary>
public sealed class Exporter(RelationalStore store)
{
    public const int PageSize = 1000;

    public static readonly string[] PeopleColumns = ["person_id", "email", "emails", "tags", "consent_email", "consent_at", "first_seen_at", "updated_at", "order_count", "buyer_status"];
    public static readonly string[] OrderColumns = ["source", "order_id", "person_id", "status", "currency", "amount", "refunded", "paid_at", "refunded_at", "test"];
    public static readonly string[] LedgerColumns = ["seq", "event_id", "occurred_at", "type", "source", "provider", "email", "order_id", "amount", "currency", "tags", "historical", "test_mode"];

    public async Task<long> PeopleAsync(TextWriter output, ExportFormat format, DateTimeOffset? since, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        using var csv = format == ExportFormat.Csv ? Csv(output, PeopleColumns) : null;
        long written = 0;
        string? after = null;
        while (true)
        {
            var page = await store.ExportPeopleAsync(after, since, PageSize, cancellationToken);
            foreach (var row in page)
            {
                var state = JsonSerializer.Deserialize<PersonState>(row.State, PersonState.JsonOptions)!;
                var consent = state.Consent.Where(c => c.Channel == "email").OrderBy(c => c.At).LastOrDefault();
                var line = new PersonLine(row.PersonId, row.PrimaryEmail ?? state.PrimaryEmail, state.Emails, state.Tags, consent?.Granted,
                    consent is null ? null : Iso.Utc(consent.At), row.FirstSeenAt, row.UpdatedAt, state.Derived.OrderCount, state.Derived.BuyerStatus);
                if (csv is not null)
                {
                    Write(csv, [line.PersonId, line.Email, string.Join(';', line.Emails), string.Join(';', line.Tags), Bool(line.ConsentEmail), line.ConsentAt,
                        line.FirstSeenAt, line.UpdatedAt, line.OrderCount.ToString(CultureInfo.InvariantCulture), line.BuyerStatus]);
                }
                else
                {
                    await output.WriteLineAsync(JsonSerializer.Serialize(line, ExportJson.Default.PersonLine));
                }
            }
            written += page.Count;
            progress?.Report(written);
            if (page.Count < PageSize) break;
            after = page[^1].PersonId;
        }
        await output.FlushAsync(cancellationToken);
        return written;
    }

    public async Task<long> OrdersAsync(TextWriter output, ExportFormat format, DateTimeOffset? since, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        using var csv = format == ExportFormat.Csv ? Csv(output, OrderColumns) : null;
        long written = 0;
        (string Source, string Order)? after = null;
        while (true)
        {
            var page = await store.ExportOrdersAsync(after?.Source, after?.Order, since, PageSize, cancellationToken);
            foreach (var o in page)
            {
                var line = new OrderLine(o.Source, o.OrderId, o.PersonId, o.Status, o.Currency, o.Amount, o.Refunded,
                    o.PaidMs is { } p ? Iso.Utc(DateTimeOffset.FromUnixTimeMilliseconds(p)) : null,
                    o.RefundedMs is { } r ? Iso.Utc(DateTimeOffset.FromUnixTimeMilliseconds(r)) : null, o.Test);
                if (csv is not null)
                {
                    Write(csv, [line.Source, line.OrderId, line.PersonId, line.Status, line.Currency, line.Amount?.ToString(CultureInfo.InvariantCulture),
                        line.Refunded.ToString(CultureInfo.InvariantCulture), line.PaidAt, line.RefundedAt, Bool(line.Test)]);
                }
                else
                {
                    await output.WriteLineAsync(JsonSerializer.Serialize(line, ExportJson.Default.OrderLine));
                }
            }
            written += page.Count;
            progress?.Report(written);
            if (page.Count < PageSize) break;
            after = (page[^1].Source, page[^1].OrderId);
        }
        await output.FlushAsync(cancellationToken);
        return written;
    }

    /// <summary>The canonical event log in log order; JSONL lines are the events as GET /v1/events serves them, with their <c>seq</c>.</summary>
    public async Task<long> LedgerAsync(TextWriter output, ExportFormat format, DateTimeOffset? since, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        using var csv = format == ExportFormat.Csv ? Csv(output, LedgerColumns) : null;
        long written = 0, after = 0;
        while (true)
        {
            var page = await store.ListCanonicalAsync(null, null, null, after, PageSize, cancellationToken);
            foreach (var row in page.Items)
            {
                var e = Normalize.CanonicalJson.Deserialize(row.Json);
                if (since is { } s && e.OccurredAt < s) continue;
                if (csv is not null)
                {
                    Write(csv, [row.Seq.ToString(CultureInfo.InvariantCulture), e.Id, Iso.Utc(e.OccurredAt), e.Type, e.Source, e.Provider, e.Subject.Email,
                        e.Order?.OrderId, e.Order?.Amount?.ToString(CultureInfo.InvariantCulture), e.Order?.Currency, string.Join(';', e.Tags),
                        Bool(e.Historical), Bool(e.TestMode)]);
                }
                else
                {
                    await output.WriteLineAsync(JsonSerializer.Serialize(new LedgerLine(row.Seq, e), ExportJson.Default.LedgerLine));
                }
                written++;
            }
            progress?.Report(written);
            if (page.Items.Count < PageSize) break;
            after = page.Items[^1].Seq;
        }
        await output.FlushAsync(cancellationToken);
        return written;
    }

    private static SepWriter Csv(TextWriter output, string[] columns)
    {
        var writer = Sep.New(',').Writer(o => o with { Escape = true }).To(output, leaveOpen: true);
        // Written now, not with the first row: an export that matches nothing still says what its columns are.
        writer.Header.Add(columns);
        writer.Header.Write();
        return writer;
    }

    private static void Write(SepWriter csv, string?[] values)
    {
        using var row = csv.NewRow();
        for (var i = 0; i < values.Length; i++) row[i].Set(values[i] ?? "");
    }

    private static string? Bool(bool? value) => value switch { true => "true", false => "false", null => null };
}

public sealed record PersonLine(string PersonId, string? Email, IReadOnlyList<string> Emails, IReadOnlyList<string> Tags, bool? ConsentEmail, string? ConsentAt,
    string FirstSeenAt, string UpdatedAt, int OrderCount, string BuyerStatus);

public sealed record OrderLine(string Source, string OrderId, string PersonId, string Status, string? Currency, long? Amount, long Refunded,
    string? PaidAt, string? RefundedAt, bool Test);

public sealed record LedgerLine(long Seq, Canonical.CanonicalEvent Event);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, Converters = [typeof(Normalize.UtcTimeConverter)])]
[JsonSerializable(typeof(PersonLine))]
[JsonSerializable(typeof(OrderLine))]
[JsonSerializable(typeof(LedgerLine))]
public sealed partial class ExportJson : JsonSerializerContext;
