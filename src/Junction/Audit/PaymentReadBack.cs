using System.Text.Json;
using Junction.Canonical;
using Junction.Config;
using Junction.Normalize;
using Junction.Providers;
using Junction.State;
using Junction.Storage;

namespace Junction.Audit;

/// <summary>
/// A payment source read back: the provider's own listing (the same <see cref="IBackfill"/> that
/// <c>junction backfill</c> pulls: Stripe events, Shopify orders, PayPal webhook events) mapped by
/// the provider's own mapper, so order ids are exactly the ledger's. Any provider with a listing
/// and credentials is covered; the items are kept so a missed payment can be backfilled through
/// intake (same dedupe and normalization as its webhook).
/// </summary>
public sealed class PaymentReadBacks(JunctionConfig config, IHttpClientFactory http, TimeProvider time)
{
    /// <summary>The sources that can be read back: a listing and API credentials.</summary>
    public IEnumerable<SourceConfig> Readable() =>
        config.Sources.Values.Where(s => ProviderRegistry.TryGet(s.Provider, out var p) && p.Api?.Backfill is not null && s.HasApiCredentials)
            .OrderBy(s => s.Id, StringComparer.Ordinal);

    private const int MaxWaits = 5;

    /// <summary>
    /// Reads the listing; a 429 or 5xx (the client is single-attempt) waits for its Retry-After (else a
    /// growing pause) and reads again from the start: what was read is keyed by order, so nothing doubles.
    /// Its <see cref="PaymentReadBack.ApiCalls"/> are the requests sent, the refused ones included (not the items listed).
    /// </summary>
    public async Task<PaymentListing> ReadAsync(SourceConfig source, DateTimeOffset since, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        var provider = ProviderRegistry.Get(source.Provider);
        var spent = 0;
        for (var attempt = 1; ; attempt++)
        {
            var api = new ProviderApiClient(http.CreateClient(Normalizer.HttpClientName), source,
                provider.Api ?? throw new ReadBackException($"sources.{source.Id}: provider {provider.Name} has no API to read back"), time);
            try
            {
                var listing = await ReadOnceAsync(source, provider, api, since, cancellationToken);
                return listing with { ReadBack = listing.ReadBack with { ApiCalls = spent + api.Requests } };
            }
            catch (ReadBackException ex) when (ex.InnerException is ProviderApiException { IsTransient: true } refused && attempt < MaxWaits)
            {
                spent += api.Requests;
                await Task.Delay(refused.RetryAfter ?? TimeSpan.FromSeconds(Math.Pow(2, attempt)), time, cancellationToken);
            }
        }
    }

    private async Task<PaymentListing> ReadOnceAsync(SourceConfig source, IWebhookProvider provider, ProviderApiClient api, DateTimeOffset since, CancellationToken cancellationToken)
    {
        var backfill = provider.Api?.Backfill ?? throw new ReadBackException($"sources.{source.Id}: provider {provider.Name} offers no listing to read back");
        var orders = new Dictionary<string, Acc>(StringComparer.Ordinal);
        var items = new Dictionary<string, List<BackfillItem>>(StringComparer.Ordinal);
        try
        {
            await foreach (var item in backfill.PullAsync(api, since, cancellationToken))
            {
                if (Map(source, provider, item) is not MapResult.Mapped mapped) continue;
                foreach (var e in mapped.Events)
                {
                    if (e.Order is not { } order) continue;
                    var acc = orders.TryGetValue(order.OrderId, out var existing) ? existing : orders[order.OrderId] = new Acc();
                    acc.Apply(e, order);
                    (items.TryGetValue(order.OrderId, out var list) ? list : items[order.OrderId] = []).Add(item);
                }
            }
        }
        catch (ProviderApiException ex)
        {
            throw new ReadBackException($"sources.{source.Id}: the provider's listing failed: {ex.Message}", ex);
        }
        var payments = orders.Where(o => o.Value.Status is not null)
            .Select(o => new ObservedPayment
            {
                Source = source.Id, OrderId = o.Key, Status = o.Value.Status!, Amount = o.Value.Amount, Currency = o.Value.Currency,
                At = o.Value.At, TestMode = o.Value.TestMode,
            })
            .OrderBy(p => p.OrderId, StringComparer.Ordinal).ToList();
        return new PaymentListing(new PaymentReadBack { Source = source.Id, Payments = payments, ApiCalls = api.Requests }, items);
    }

    /// <summary>The raw drafts that carry a missed order, for intake's append (deduplicated there).</summary>
    public IReadOnlyList<RawEventDraft> Drafts(string sourceId, IEnumerable<BackfillItem> items) =>
        [.. items.Select(item => item.ToDraft(time, sourceId))];

    private MapResult? Map(SourceConfig source, IWebhookProvider provider, BackfillItem item)
    {
        try
        {
            return provider.Mapper.Map(new RawInput
            {
                RawId = "readback", Source = source.Id, Provider = provider.Name, Body = item.Body,
                Headers = item.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value, StringComparer.Ordinal),
                ContentType = item.ContentType, TraceId = "readback", ReceivedAt = time.GetUtcNow(), DedupKey = item.DedupKey,
                CanEnrich = false, ApiBaseUrl = source.Option("api_base_url"),
            });
        }
        catch (Exception ex) when (ex is MappingException or JsonException or FormatException or InvalidOperationException or KeyNotFoundException)
        {
            return null; // what the mapper cannot read is quarantined when it arrives as a webhook; here it is simply not counted
        }
    }


    /// <summary>One order's facts from the listing: paid, refunded in part or in full.</summary>
    private sealed class Acc
    {
        private long _refunded;
        private bool _fullyRefunded;

        public string? Status { get; private set; }
        public long? Amount { get; private set; }
        public string? Currency { get; private set; }
        public DateTimeOffset At { get; private set; } = DateTimeOffset.MaxValue;
        public bool TestMode { get; private set; }

        public void Apply(CanonicalEvent e, OrderInfo order)
        {
            TestMode |= e.TestMode;
            Amount ??= order.Amount;
            Currency ??= order.Currency;
            switch (e.Type)
            {
                case EventTypes.OrderPaid:
                    if (e.OccurredAt < At) At = e.OccurredAt;
                    Status ??= OrderStatuses.Paid;
                    break;
                case EventTypes.OrderRefunded:
                    if (At == DateTimeOffset.MaxValue) At = e.OccurredAt;
                    _refunded = Math.Max(_refunded, Math.Max(order.RefundedTotal ?? 0, order.RefundAmount ?? 0));
                    _fullyRefunded |= order.FullyRefunded == true || (order.FullyRefunded is null && order.RefundAmount is null && order.RefundedTotal is null);
                    break;
                default:
                    return;
            }
            if (_fullyRefunded || (Amount is { } amount && _refunded >= amount && amount > 0)) Status = OrderStatuses.Refunded;
            else if (_refunded > 0) Status = OrderStatuses.PartiallyRefunded;
        }
    }
}

/// <summary>A payment read-back and the listing items behind each order id.</summary>
public sealed record PaymentListing(PaymentReadBack ReadBack, IReadOnlyDictionary<string, List<BackfillItem>> Items);
