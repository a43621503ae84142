using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Junction.Project;
using Junction.Storage;
using Junction.Tests.Project;
using Junction.Tests.Support;

namespace Junction.Tests.Store;

/// <summary>
/// The dashboard's read model: person and order summaries kept by the projector (and by a rebuild)
/// and hourly counters kept where intake and deliveries happen. Run per storage engine.
/// </summary>
public abstract class ReadModelTests
{
    protected abstract Task<string> NewStorageAsync();

    private static readonly DateTimeOffset Now = TimeProvider.System.GetUtcNow();
    private static string At(double hoursAgo) => Observability.Iso.Utc(Now.AddHours(-hoursAgo));

    [Fact]
    public async Task Orders_Refunds_Leads_AndAttribution_AreFiguresOfThePeriod_TestPeopleLeftOut_AndARebuildKeepsThem()
    {
        var storage = await NewStorageAsync();
        await using (var server = await JunctionServer.StartAsync(ProjectKit.Config(storage)))
        {
            await ProjectKit.PostEventAsync(server, ProjectKit.OptIn("ada@example.com", At(5), utm: "ig"));
            await ProjectKit.PostEventAsync(server, ProjectKit.Paid("ord_1", "ada@example.com", At(4)));
            await ProjectKit.PostEventAsync(server, ProjectKit.Paid("ord_2", "bob@example.com", At(3), amount: 2000));
            await ProjectKit.PostEventAsync(server, ProjectKit.Refund("ord_2", "bob@example.com", At(2), amount: 2000));
            await ProjectKit.PostEventAsync(server, """
                {"type":"order.paid","test_mode":true,"occurred_at":"2026-12-03T09:00:00Z","subject":{"email":"smoke@example.com"},
                 "order":{"order_id":"ord_t","amount":100,"currency":"usd","items":[{"sku":"course-pro","quantity":1,"amount":100}]}}
                """.Replace("2026-12-03T09:00:00Z", At(1), StringComparison.Ordinal));
            await ProjectKit.PersonAsync(server, "/v1/people?email=smoke@example.com", _ => true);
            await ProjectKit.PersonAsync(server, "/v1/people?email=bob@example.com", p => p.GetProperty("orders")[0].GetProperty("status").GetString() == "refunded");
        }

        await using var store = (RelationalStore)StoreFactory.Open(storage, TimeProvider.System);
        var from = Now.AddDays(-1).ToUnixTimeMilliseconds();
        var to = Now.AddMinutes(1).ToUnixTimeMilliseconds();
        var figures = await store.BusinessFiguresAsync(from, to, CancellationToken.None);
        Assert.Equal(2, figures.Orders);
        Assert.Equal([new CurrencyAmount("USD", 6900)], figures.Gross);
        Assert.Equal((1, 2000L), (figures.Refunds, figures.Refunded.Single().Amount));
        Assert.Equal(1, figures.NewLeads);            // Ada opted in; Bob bought without consent; the smoke person is a test person
        Assert.Equal((1, 1), (figures.OrdersWithLead, figures.OrdersWithUtm)); // Ada was a lead from ig before paying
        var byFirstTouch = await store.RevenueByTouchAsync(firstTouch: true, CancellationToken.None);
        Assert.Contains(new AttributedRevenue("ig", null, "USD", 1, 4900), byFirstTouch);
        Assert.Contains(new AttributedRevenue(null, null, "USD", 1, 0), byFirstTouch); // Bob: refunded, no attribution

        // A rebuild replaces the read model with the same figures.
        var report = await new PeopleRebuild(store, ProjectKit.Config(storage)).RunAsync(TimeProvider.System.GetUtcNow(), null, CancellationToken.None);
        Assert.Equal(report.Before, report.After);
        var rebuilt = await store.BusinessFiguresAsync(from, to, CancellationToken.None);
        Assert.Equal((figures.Orders, figures.Refunds, figures.NewLeads, figures.OrdersWithLead, figures.OrdersWithUtm),
            (rebuilt.Orders, rebuilt.Refunds, rebuilt.NewLeads, rebuilt.OrdersWithLead, rebuilt.OrdersWithUtm));
        Assert.Equal(figures.Gross, rebuilt.Gross);
        Assert.Equal(figures.Refunded, rebuilt.Refunded);
        var people = await store.ListPeopleAsync(10, null, CancellationToken.None);
        Assert.Equal((2, 1), (people.Count(p => !p.Test), people.Count(p => p.Test)));
    }

    [Fact]
    public async Task IntakeCountsAcceptedAndDuplicatesPerSource_InTheSameTransactionAsTheEvents()
    {
        var storage = await NewStorageAsync();
        await using var server = await JunctionServer.StartAsync(JunctionServer.Config(storage));
        var now = TimeProvider.System.GetUtcNow().ToUnixTimeSeconds();
        foreach (var id in (string[])["evt_rm_1", "evt_rm_2", "evt_rm_1"])
        {
            using var response = await server.PostStripeAsync(Payloads.StripePaymentIntentSucceeded(id), now);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        using (var content = new ByteArrayContent(Encoding.UTF8.GetBytes("{}")))
        {
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var forged = await server.Client.PostAsync("/v1/hooks/stripe-main", content);
            Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        }

        await using var store = (RelationalStore)StoreFactory.Open(storage, TimeProvider.System);
        var from = TimeProvider.System.GetUtcNow().AddHours(-1).ToUnixTimeMilliseconds();
        var to = TimeProvider.System.GetUtcNow().AddHours(1).ToUnixTimeMilliseconds();
        var totals = new List<StatTotal>();
        for (var i = 0; i < 100 && !totals.Any(t => t.Metric == "rejected"); i++)
        {
            totals = [.. await store.StatTotalsAsync(from, to, CancellationToken.None)];
            await Task.Delay(50);
        }
        Assert.Contains(new StatTotal("accepted", "stripe-main", 2), totals);
        Assert.Contains(new StatTotal("duplicate", "stripe-main", 1), totals);
        Assert.Contains(totals, t => t.Metric == "rejected" && t.Key.StartsWith("stripe-main|", StringComparison.Ordinal) && t.Value == 1);
    }
}

public sealed class SqliteReadModelTests : ReadModelTests
{
    protected override Task<string> NewStorageAsync() => Task.FromResult(TestStorage.NewSqlite());
}

public sealed class PostgresReadModelTests : ReadModelTests
{
    protected override Task<string> NewStorageAsync() => TestStorage.NewPostgresAsync();
}
