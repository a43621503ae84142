using System.Net.Http.Headers;
using System.Text.Json;
using Junction.Audit;
using Junction.Dispatch;
using Junction.Dispatch.Destinations;

namespace Junction.Integrations.Salesforce;

/// <summary>
/// What Salesforce holds, by SOQL (<c>GET /services/data/vXX.X/query?q=SELECT …</c>, following
/// <c>nextRecordsUrl</c>, up to 2 000 records a page): every record's external id (the email), its
/// tags field and HasOptedOutOfEmail. Subscriptions are not covered: Salesforce holds an opt-out
/// flag, not a subscription.
/// </summary>
public sealed class SalesforceReadBack(DestinationConfig config, HttpClient http, TimeProvider time) : IDestinationReadBack
{
    public DestinationConfig Config { get; } = config;

    public async Task<DestinationReadBack> ReadAsync(ReadBackGate gate, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(gate);
        var objectName = Config.Options.GetValueOrDefault(SalesforceDestination.ObjectOption) ?? SalesforceDestination.DefaultObject;
        var externalId = Config.Options.GetValueOrDefault(SalesforceDestination.ExternalIdField)
            ?? throw new ReadBackException($"destinations.{Config.Id}.{SalesforceDestination.ExternalIdField} is not set");
        var tagsField = Config.Options.GetValueOrDefault(SalesforceDestination.TagsField);
        var version = Config.Options.GetValueOrDefault(SalesforceDestination.ApiVersion) ?? SalesforceDestination.DefaultApiVersion;

        await gate(cancellationToken);
        var (token, failure) = await new SalesforceSession(Config).TokenAsync(new DestinationHttp(http, time, Config.BaseUrl), null, cancellationToken);
        if (failure is not null) throw new ReadBackException(SalesforceSession.TokenError(failure));
        var api = new ReadBackHttp(Config, http, time, gate, r => r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token));

        var fields = tagsField is null ? $"Id, {externalId}" : $"Id, {externalId}, {tagsField}";
        var mapped = Config.Tags.Values.ToHashSet(StringComparer.Ordinal);
        var contacts = new Dictionary<string, ObservedContact>(StringComparer.Ordinal);
        string? next = $"/services/data/{version}/query?q={Uri.EscapeDataString($"SELECT {fields} FROM {objectName} WHERE {externalId} != null")}";
        while (next is not null)
        {
            var page = await api.GetAsync(next, cancellationToken);
            if (!page.TryGetProperty("records", out var records) || records.ValueKind != JsonValueKind.Array)
            {
                throw new ReadBackException("GET /services/data/query: expected 'records' in Salesforce's answer");
            }
            foreach (var record in records.EnumerateArray())
            {
                if (!record.TryGetProperty(externalId, out var e) || e.ValueKind != JsonValueKind.String || e.GetString() is not { Length: > 0 } email) continue;
                var tags = tagsField is not null && record.TryGetProperty(tagsField, out var t) && t.ValueKind == JsonValueKind.String
                    ? t.GetString()!.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(mapped.Contains)
                        .Distinct(StringComparer.Ordinal).ToDictionary(x => x, _ => (DateTimeOffset?)null, StringComparer.Ordinal)
                    : [];
                var key = email.Trim().ToLowerInvariant();
                contacts[key] = new ObservedContact { Email = key, Tags = tags };
            }
            next = page.TryGetProperty("done", out var done) && done.ValueKind == JsonValueKind.False
                && page.TryGetProperty("nextRecordsUrl", out var url) && url.ValueKind == JsonValueKind.String ? url.GetString() : null;
        }
        return new DestinationReadBack
        {
            Destination = Config.Id,
            CoversSubscriptions = false,
            ApiCalls = api.Calls + 1,
            Contacts = contacts,
        };
    }
}
