using Junction.Dispatch;
using Junction.Integrations.Thinkific;
using Microsoft.Extensions.Time.Testing;
using static Junction.Tests.Dispatch.ConnectorTestKit;

namespace Junction.Tests.Integrations.Thinkific;

public sealed class ThinkificConnectorTests
{
    private readonly FakeTimeProvider _clock = new(Now);

    private static DestinationConfig Config(Uri baseUrl, string apiKey = FakeThinkific.ApiKey, string? subdomain = FakeThinkific.Subdomain) =>
        DestConfig(ThinkificDestination.Type, baseUrl, new() { ["api_key"] = apiKey },
            subdomain is null ? [] : new() { ["subdomain"] = subdomain });

    private IDestinationConnector Connector(Uri baseUrl, string apiKey = FakeThinkific.ApiKey, string? subdomain = FakeThinkific.Subdomain, TimeProvider? time = null) =>
        ThinkificDestination.CreateConnector(Config(baseUrl, apiKey, subdomain), Http(), time ?? _clock);

    [Fact]
    public async Task Purchase_CreatesTheMissingUser_AndEnrollsAsAFullEnrollment()
    {
        await using var thinkific = await FakeThinkific.StartAsync(101, 102);

        var result = await Connector(thinkific.BaseUrl).DeliverAsync(StateWork(Contact("ada@example.com", "101")), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        var user = thinkific.UserOf("ada@example.com");
        Assert.NotNull(user);
        Assert.Equal(("Ada", "Lovelace"), (user.First, user.Last));
        Assert.Equal([101], thinkific.ActiveCourses("ada@example.com"));
        var enrollment = Assert.Single(thinkific.EnrollmentsOf("ada@example.com"));
        Assert.Equal(Now, enrollment.ActivatedAt); // activated_at sent: not a free trial
        Assert.Null(enrollment.ExpiryDate);
        Assert.Equal(
            ["GET /users?query%5Bemail%5D=ada%40example.com", "POST /users", $"POST /enrollments {{\"course_id\":101,\"user_id\":{user.Id},\"activated_at\":\"2026-11-30T12:00:00Z\"}}"],
            result.Requests.Select(r => r.StartsWith("POST /users", StringComparison.Ordinal) ? "POST /users" : r));
        var call = thinkific.Api.Requests.First();
        Assert.Equal(FakeThinkific.ApiKey, call.Headers["X-Auth-API-Key"]);
        Assert.Equal(FakeThinkific.Subdomain, call.Headers["X-Auth-Subdomain"]);
        Assert.DoesNotContain(result.Requests, r => r.Contains(FakeThinkific.ApiKey, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ExistingUser_IsPickedByExactEmail_AmongTheSearchMatches_AndNotCreatedAgain()
    {
        await using var thinkific = await FakeThinkific.StartAsync(101);
        thinkific.AddUser("ada@example.com.au", "Other", "Ada"); // query[email] is a search: this one matches too
        var id = thinkific.AddUser("Ada@Example.com");

        var result = await Connector(thinkific.BaseUrl).DeliverAsync(StateWork(Contact("ada@example.com", "101")), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Equal(2, thinkific.UserCount);
        Assert.Equal([101], thinkific.ActiveCourses("ada@example.com"));
        Assert.Empty(thinkific.ActiveCourses("ada@example.com.au"));
        Assert.Contains(result.Requests, r => r.StartsWith($"POST /enrollments {{\"course_id\":101,\"user_id\":{id},", StringComparison.Ordinal));
    }

    [Fact]
    public async Task UserWithoutAName_IsCreatedWithTheNamesThinkificRequires()
    {
        await using var thinkific = await FakeThinkific.StartAsync(101);
        var contact = Contact("grace@example.com", "101") with { Fields = [] };

        var result = await Connector(thinkific.BaseUrl).DeliverAsync(StateWork(contact), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Equal(("grace", "-"), (thinkific.UserOf("grace@example.com")!.First, thinkific.UserOf("grace@example.com")!.Last));
    }

    [Fact]
    public async Task Refund_ExpiresTheEnrollmentNoLongerDesired_AndKeepsTheOthers()
    {
        await using var thinkific = await FakeThinkific.StartAsync(101, 102);
        var e101 = thinkific.EnrollByHand("ada@example.com", 101);
        thinkific.EnrollByHand("ada@example.com", 102);

        var result = await Connector(thinkific.BaseUrl).DeliverAsync(
            StateWork(Contact("ada@example.com", "102"), lastSynced: Contact("ada@example.com", "101", "102")), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Equal([102], thinkific.ActiveCourses("ada@example.com"));
        Assert.Contains($"PUT /enrollments/{e101} {{\"expiry_date\":\"2026-11-30T12:00:00Z\"}}", result.Requests);
        Assert.Equal(0, thinkific.Api.Count("POST "));
    }

    [Fact]
    public async Task Repurchase_ReactivatesTheExpiredEnrollment_InsteadOfASecondOne()
    {
        await using var thinkific = await FakeThinkific.StartAsync(101);
        var id = thinkific.EnrollByHand("ada@example.com", 101, expiry: Now.AddDays(-2));
        Assert.Empty(thinkific.ActiveCourses("ada@example.com"));

        var result = await Connector(thinkific.BaseUrl).DeliverAsync(
            StateWork(Contact("ada@example.com", "101"), lastSynced: Contact("ada@example.com")), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Equal([101], thinkific.ActiveCourses("ada@example.com"));
        Assert.Equal(id, Assert.Single(thinkific.EnrollmentsOf("ada@example.com")).Id);
        Assert.Contains($"PUT /enrollments/{id} {{\"activated_at\":\"2026-11-30T12:00:00Z\",\"expiry_date\":null}}", result.Requests);
        Assert.Equal(0, thinkific.Api.Count("POST /api/public/v1/enrollments"));
    }

    [Fact]
    public async Task FreeTrial_IsTurnedIntoAFullEnrollment_ByThePurchase()
    {
        await using var thinkific = await FakeThinkific.StartAsync(101);
        thinkific.EnrollByHand("ada@example.com", 101, freeTrial: true);

        var result = await Connector(thinkific.BaseUrl).DeliverAsync(StateWork(Contact("ada@example.com", "101")), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Equal([101], thinkific.ActiveCourses("ada@example.com"));
        Assert.Single(thinkific.EnrollmentsOf("ada@example.com"));
    }

    [Fact]
    public async Task RetryOfADeliveredTask_DoesNotEnrollTwice_OrExpireTwice()
    {
        await using var thinkific = await FakeThinkific.StartAsync(101);
        var connector = Connector(thinkific.BaseUrl);
        var purchase = StateWork(Contact("ada@example.com", "101"));

        // The first attempt's answer was lost (a timeout): the dispatcher sends the same task again.
        Assert.Equal(DeliveryOutcome.Succeeded, (await connector.DeliverAsync(purchase, CancellationToken.None)).Outcome);
        Assert.Equal(DeliveryOutcome.Succeeded, (await connector.DeliverAsync(purchase, CancellationToken.None)).Outcome);
        var refund = StateWork(Contact("ada@example.com"), lastSynced: Contact("ada@example.com", "101"));
        Assert.Equal(DeliveryOutcome.Succeeded, (await connector.DeliverAsync(refund, CancellationToken.None)).Outcome);
        Assert.Equal(DeliveryOutcome.Succeeded, (await connector.DeliverAsync(refund, CancellationToken.None)).Outcome);

        Assert.Equal(1, thinkific.Api.Count("POST /api/public/v1/enrollments"));
        Assert.Equal(1, thinkific.Api.Count("PUT /api/public/v1/enrollments/"));
        Assert.Equal(1, thinkific.UserCount);
        Assert.Empty(thinkific.ActiveCourses("ada@example.com"));
    }

    [Fact]
    public async Task RefundOfAUserThinkificDoesNotKnow_IsDone()
    {
        await using var thinkific = await FakeThinkific.StartAsync(101);

        var result = await Connector(thinkific.BaseUrl).DeliverAsync(
            StateWork(Contact("ada@example.com"), lastSynced: Contact("ada@example.com", "101")), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Equal(0, thinkific.UserCount);
    }

    [Fact]
    public async Task RateLimited_WaitsUntilTheRateLimitResetEpoch()
    {
        await using var thinkific = await FakeThinkific.StartAsync(101);
        thinkific.ResetSeconds = 40;
        thinkific.RateLimitNext(1);
        var clock = new FakeTimeProvider(TimeProvider.System.GetUtcNow());

        var result = await Connector(thinkific.BaseUrl, time: clock).DeliverAsync(StateWork(Contact("ada@example.com", "101")), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.RateLimited, result.Outcome);
        var reset = DateTimeOffset.FromUnixTimeSeconds(Assert.Single(thinkific.ResetEpochs));
        Assert.Equal(reset - clock.GetUtcNow(), result.RetryAfter);
        Assert.InRange(result.RetryAfter!.Value.TotalSeconds, 39, 41);
    }

    [Theory]
    [InlineData("1764504000", 0)] // an epoch in the past: ask again now
    [InlineData("1764504060000", 60)] // an epoch in milliseconds
    [InlineData("1500", 1.5)] // a wait in milliseconds (Thinkific's help centre wording)
    public void RateLimitReset_IsReadAsAnEpoch_OrAWaitInMilliseconds(string header, double seconds)
    {
        using var response = new HttpResponseMessage();
        response.Headers.TryAddWithoutValidation("RateLimit-Reset", header);
        var clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(1764504000));

        Assert.Equal(TimeSpan.FromSeconds(seconds), ThinkificConnector.ResetWait(response.Headers, clock));
    }

    [Fact]
    public async Task RefusedApiKey_IsPermanent_AndNamesTheCredential()
    {
        await using var thinkific = await FakeThinkific.StartAsync(101);

        var result = await Connector(thinkific.BaseUrl, apiKey: "wrong").DeliverAsync(StateWork(Contact("ada@example.com", "101")), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Permanent, result.Outcome);
        Assert.Equal(401, result.Status);
        Assert.Contains("check credentials", result.Error, StringComparison.Ordinal);
        Assert.Contains("destinations.thinkific-main.credentials.api_key", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownCourse_IsPermanent_WithThinkificsMessage()
    {
        await using var thinkific = await FakeThinkific.StartAsync(101);

        var result = await Connector(thinkific.BaseUrl).DeliverAsync(StateWork(Contact("ada@example.com", "999")), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Permanent, result.Outcome);
        Assert.Equal(422, result.Status);
        Assert.Contains("enroll in course 999", result.Error, StringComparison.Ordinal);
        Assert.Contains("Course could not be found.", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServerError_IsTransient()
    {
        await using var thinkific = await FakeThinkific.StartAsync(101);
        thinkific.FailNext(1, 503);

        var result = await Connector(thinkific.BaseUrl).DeliverAsync(StateWork(Contact("ada@example.com", "101")), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Transient, result.Outcome);
        Assert.Empty(thinkific.ActiveCourses("ada@example.com"));
    }

    [Theory]
    [InlineData("course-pro", null, "destinations.thinkific-main.courses: 'course-pro' is not a Thinkific course id")]
    [InlineData("101", "", "destinations.thinkific-main.subdomain: required for Thinkific")]
    public async Task UnusableConfig_IsPermanent_NamingTheKey_BeforeAnyCall(string course, string? subdomain, string error)
    {
        await using var thinkific = await FakeThinkific.StartAsync(101);

        var result = await Connector(thinkific.BaseUrl, subdomain: subdomain ?? FakeThinkific.Subdomain)
            .DeliverAsync(StateWork(Contact("ada@example.com", course)), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Permanent, result.Outcome);
        Assert.StartsWith(error, result.Error, StringComparison.Ordinal);
        Assert.Empty(thinkific.Api.Requests);
    }
}
