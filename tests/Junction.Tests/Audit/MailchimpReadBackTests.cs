using System.Diagnostics;
using Junction.Audit;
using Junction.Integrations.Mailchimp;
using Junction.Tests.Dispatch.Fakes;
using static Junction.Tests.Dispatch.ConnectorTestKit;

namespace Junction.Tests.Audit;

/// <summary>The Mailchimp read-back against the stateful fake: offset pages, statuses, mapped tags only, 429 waits, refused credentials.</summary>
public sealed class MailchimpReadBackTests
{
    private const string Paid = "Paid: Course Pro";

    private int _gated;

    private static MailchimpReadBack ReadBack(FakeMailchimp mc, string apiKey = FakeMailchimp.ApiKey) =>
        new(DestConfig(DestinationTypes.Mailchimp, mc.BaseUrl, new() { ["api_key"] = apiKey }, new() { ["list_id"] = FakeMailchimp.ListId }) with
        {
            Tags = new Dictionary<string, string>(StringComparer.Ordinal) { ["paid:course-pro"] = Paid, ["customer"] = "Customer" },
        }, Http(), TimeProvider.System);

    private ValueTask Gate(CancellationToken _)
    {
        Interlocked.Increment(ref _gated);
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task FiveMembers_InPagesOfTwo_AreAllRead_WithTheirStatusInJunctionsWords()
    {
        await using var mc = await FakeMailchimp.StartAsync();
        mc.MemberPageSize = 2;
        mc.AddMember("a@example.com", "subscribed", Paid);
        mc.AddMember("B@Example.com", "pending");
        mc.AddMember("c@example.com", "unsubscribed");
        mc.AddMember("d@example.com", "cleaned");
        mc.AddMember("e@example.com", "transactional", "Customer");

        var read = await ReadBack(mc).ReadAsync(Gate, CancellationToken.None);

        Assert.True(read.CoversSubscriptions);
        Assert.Equal(
            [("a@example.com", "subscribed"), ("b@example.com", "pending"), ("c@example.com", "unsubscribed"), ("d@example.com", "inactive"), ("e@example.com", "inactive")],
            read.Contacts.Values.OrderBy(c => c.Email, StringComparer.Ordinal).Select(c => (c.Email, c.Status)));
        var pages = mc.Api.Requests.Where(r => r.Request.StartsWith("GET /3.0/lists/a1b2c3d4e5/members?", StringComparison.Ordinal)).Select(r => r.Request).ToList();
        Assert.Equal(3, pages.Count);
        Assert.Contains("offset=4", pages[^1], StringComparison.Ordinal);
        Assert.All(pages, p => Assert.Contains("fields=members.email_address,members.status,members.tags,total_items", p, StringComparison.Ordinal));
        Assert.Equal((3, 3), (read.ApiCalls, _gated));
    }

    [Fact]
    public async Task OnlyMappedTags_AreReported_WithoutADate()
    {
        await using var mc = await FakeMailchimp.StartAsync();
        mc.AddMember("ada@example.com", "subscribed", Paid, "VIP", "Newsletter");
        mc.AddMember("bob@example.com", "subscribed", "VIP");

        var read = await ReadBack(mc).ReadAsync(Gate, CancellationToken.None);

        var ada = read.Contacts["ada@example.com"];
        Assert.Equal([Paid], ada.Tags.Keys);
        Assert.Null(ada.Tags[Paid]);
        Assert.Empty(read.Contacts["bob@example.com"].Tags);
        Assert.Empty(ada.Courses);
    }

    [Fact]
    public async Task RateLimited_ReadWaitsForRetryAfter_AndTriesAgain()
    {
        await using var mc = await FakeMailchimp.StartAsync();
        mc.AddMember("ada@example.com", "subscribed", Paid);
        mc.RateLimitNext(1, retryAfter: "1");

        var clock = Stopwatch.StartNew();
        var read = await ReadBack(mc).ReadAsync(Gate, CancellationToken.None);

        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.9), $"waited only {clock.Elapsed}");
        Assert.Equal(2, mc.Api.Count("GET /3.0/lists/a1b2c3d4e5/members?"));
        Assert.Equal(2, read.ApiCalls);
        Assert.Contains(Paid, read.Contacts["ada@example.com"].Tags.Keys);
    }

    [Fact]
    public async Task RefusedApiKey_EndsTheRead_NamingTheCredentials()
    {
        await using var mc = await FakeMailchimp.StartAsync();

        var e = await Assert.ThrowsAsync<ReadBackException>(() => ReadBack(mc, "wrong-us21").ReadAsync(Gate, CancellationToken.None));

        Assert.Contains("answered 401", e.Message, StringComparison.Ordinal);
        Assert.Contains("destinations.mailchimp-main.credentials", e.Message, StringComparison.Ordinal);
        Assert.Equal(1, mc.Api.Count("GET "));
    }
}
