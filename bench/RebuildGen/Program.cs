using System.Diagnostics;
using System.Globalization;
using Junction.Canonical;
using Junction.Normalize;
using Junction.Storage;

// RebuildGen STORAGE EVENTS PEOPLE
// Writes EVENTS canonical events about PEOPLE people (plus one extra "work address" person for
// every 20th, merged by a later purchase carrying both) into STORAGE, in batches through
// CommitNormalizationAsync, so the store holds exactly what normalization would have written.
// About 10% of events are logged out of order (a refund logged before the purchase it refunds,
// a webinar before the opt-in), which the fold must absorb.
if (args.Length < 3)
{
    Console.Error.WriteLine("usage: RebuildGen STORAGE EVENTS PEOPLE [START_ISO]");
    return 2;
}
var storage = args[0];
var target = long.Parse(args[1], CultureInfo.InvariantCulture);
var peopleCount = int.Parse(args[2], CultureInfo.InvariantCulture);
var perPerson = (int)Math.Max(4, target / peopleCount);
var random = new Random(20261130);
// An optional fourth argument moves the log in time (bench/dashboard.sh ends it near today, so "the last 30 days" hold orders).
var t0 = args.Length > 3 ? DateTimeOffset.Parse(args[3], CultureInfo.InvariantCulture) : new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
string[] utm = ["ig", "fb", "google", "newsletter", "podcast"];
string[] skus = ["COURSE-PRO", "EBOOK", "COACHING", "TEMPLATES", "COMMUNITY"];
long[] prices = [19900, 2900, 49900, 4900, 9900];

var log = new List<(long Key, CanonicalEvent Event)>((int)target + peopleCount / 10);
long made = 0;
CanonicalEvent Make(string source, string provider, string type, DateTimeOffset at, Subject subject) => new()
{
    Id = "ce_bench_" + (++made).ToString("x", CultureInfo.InvariantCulture),
    RawId = "raw_bench_" + made.ToString("x", CultureInfo.InvariantCulture),
    Source = source, Provider = provider, Type = type, ProviderType = type, OccurredAt = at,
    TraceId = made.ToString("x32", CultureInfo.InvariantCulture), Subject = subject,
};
void Add(CanonicalEvent e, bool late = false) =>
    log.Add((e.OccurredAt.ToUnixTimeMilliseconds() + (late ? 3L * 24 * 3600 * 1000 : 0), e));

for (var k = 0; k < peopleCount; k++)
{
    var start = t0.AddMinutes(random.Next(0, 300 * 24 * 60));
    var email = $"p{k}@example.com";
    var token = $"jt_{k}";
    var who = Subject.From(email) with { AnonymousId = $"anon_{k}", PurchaseToken = token };
    var source = utm[k % utm.Length];
    var touch = new Attribution { UtmSource = source, UtmCampaign = "launch" };
    Add(Make("kit", "kit", EventTypes.Optin, start, who) with
    {
        Consent = [new ConsentInfo { Channel = "email", Granted = true }], FirstTouch = touch, Attribution = touch,
    });
    var buyer = Subject.From(email, customerId: $"cus_{k}") with { PurchaseToken = token };
    if (k % 20 == 0)
    {
        // A second address that becomes its own person first, then merges through the purchase token.
        var work = $"p{k}@work.example";
        Add(Make("kit", "kit", EventTypes.Optin, start.AddHours(1), Subject.From(work)) with { Consent = [new ConsentInfo { Channel = "email", Granted = true }] });
        buyer = Subject.From(work, customerId: $"cus_{k}") with { PurchaseToken = token };
    }
    var orders = perPerson - 5;
    for (var j = 0; j < orders; j++)
    {
        var sku = j == 0 ? skus[k % skus.Length] : skus[(k + j) % skus.Length];
        var amount = prices[Array.IndexOf(skus, sku)];
        Add(Make("stripe", "stripe", EventTypes.OrderPaid, start.AddDays(1 + j * 7).AddMinutes(random.Next(0, 600)), buyer) with
        {
            Order = new OrderInfo { OrderId = $"pi_{k}_{j}", Amount = amount, Currency = "USD", Items = [new OrderItem { Sku = sku, Amount = amount }] },
        });
    }
    // Two refunds: a full refund of the first order for every 10th person (access revoked), partial ones otherwise.
    for (var r = 0; r < 2; r++)
    {
        var j = k % 10 == 0 && r == 0 ? 0 : Math.Min(orders - 1, 1 + r);
        var amount = prices[Array.IndexOf(skus, j == 0 ? skus[k % skus.Length] : skus[(k + j) % skus.Length])];
        var full = k % 10 == 0 && r == 0;
        Add(Make("stripe", "stripe", EventTypes.OrderRefunded, start.AddDays(2 + j * 7 + r), buyer) with
        {
            Order = new OrderInfo { OrderId = $"pi_{k}_{j}", RefundAmount = full ? amount : amount / 4, RefundId = $"re_{k}_{r}", FullyRefunded = full, Currency = "USD" },
        }, late: k % 10 == 3);
    }
    Add(Make("zoom", "zoom", EventTypes.WebinarRegistered, start.AddDays(3), Subject.From(email)) with
    {
        Webinar = new WebinarInfo { WebinarId = "web_launch", Topic = "Launch workshop", StartsAt = start.AddDays(5) },
    }, late: k % 10 == 7);
    if (k % 3 == 0) Add(Make("kit", "kit", EventTypes.Unsubscribe, start.AddDays(40), Subject.From(email)) with { Consent = [new ConsentInfo { Channel = "email", Granted = false }] });
    else Add(Make("kit", "kit", EventTypes.WebinarAttended, start.AddDays(5), Subject.From(email)) with
    {
        Webinar = new WebinarInfo { WebinarId = "web_launch", Attendance = "live", DurationSeconds = 3600 },
    });
}
log.Sort((a, b) => a.Key.CompareTo(b.Key));
Console.Error.WriteLine($"RebuildGen: {log.Count} events about {peopleCount} people (+{peopleCount / 20} merged work addresses)");

await using var store = StoreFactory.Open(storage, TimeProvider.System);
await store.MigrateAsync(CancellationToken.None);
var clock = Stopwatch.StartNew();
const int Batch = 5_000;
for (var i = 0; i < log.Count; i += Batch)
{
    var outcomes = log.Skip(i).Take(Batch).Select((x, n) => new NormalizationOutcome
    {
        RawId = x.Event.RawId, RawSeq = i + n + 1, Source = x.Event.Source, ProviderType = x.Event.Type, Status = NormalizationStatus.Mapped,
        Events = [(x.Event, CanonicalJson.Serialize(x.Event))],
    }).ToList();
    await store.CommitNormalizationAsync(outcomes, null, 0, null, CancellationToken.None);
    if ((i / Batch) % 20 == 0) Console.Error.Write($"\rRebuildGen: wrote {i + outcomes.Count}/{log.Count}");
}
Console.Error.WriteLine($"\rRebuildGen: wrote {log.Count} events in {clock.Elapsed.TotalSeconds:F1} s");
Console.Out.WriteLine(log.Count);
return 0;
