using Junction.Canonical;
using Junction.Dispatch;
using Junction.Dispatch.Destinations;
using Microsoft.Extensions.Time.Testing;

namespace Junction.Tests.Dispatch;

/// <summary>The one HTTP/classification helper every connector shares, and the money formatting GA4 and the planner share.</summary>
public sealed class DestinationHttpTests
{
    private static readonly HttpClient Client = new();

    private static readonly FakeTimeProvider Time = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));

    [Theory]
    [InlineData(4900L, "USD", "49.00")]
    [InlineData(1500L, "JPY", "1500")]
    [InlineData(1234L, "BHD", "1.234")]
    [InlineData(-250L, "EUR", "-2.50")]
    public void Money_MinorUnits_AreFormattedWithTheCurrencysOwnDigits(long minor, string currency, string expected)
    {
        Assert.Equal(expected, Money.FormatMajor(minor, currency));
        Assert.Equal(decimal.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), Money.ToMajor(minor, currency));
    }

    [Fact]
    public void RetryAfter_FallsBackToTheFirstResetHeaderThatHoldsSeconds()
    {
        using var response = new HttpResponseMessage();
        response.Headers.TryAddWithoutValidation("X-RateLimit-Reset", "12.5");
        response.Headers.TryAddWithoutValidation("RateLimit-Reset", "not a number");

        Assert.Equal(TimeSpan.FromSeconds(12.5), DestinationHttp.RetryAfter(response.Headers, Time, ["RateLimit-Reset", "X-RateLimit-Reset"]));
        Assert.Null(DestinationHttp.RetryAfter(response.Headers, Time));
    }

    [Fact]
    public void RetryAfter_Header_WinsOverResetHeaders_AndAPastDateIsNoWait()
    {
        using var response = new HttpResponseMessage();
        response.Headers.TryAddWithoutValidation("Retry-After", "Sun, 01 Mar 2026 11:00:00 GMT");
        response.Headers.TryAddWithoutValidation("RateLimit-Reset", "40");

        Assert.Equal(TimeSpan.Zero, DestinationHttp.RetryAfter(response.Headers, Time, ["RateLimit-Reset"]));
    }

    [Fact]
    public void RateLimited_WithoutAnyHeader_WaitsTheDefault()
    {
        using var response = new HttpResponseMessage();
        var http = new DestinationHttp(Client, Time) { DefaultRetryAfter = TimeSpan.FromSeconds(60) };

        var result = http.Failed(new HttpReply(429, "Retry later", response.Headers, null));

        Assert.Equal((DeliveryOutcome.RateLimited, 429, TimeSpan.FromSeconds(60)), (result.Outcome, result.Status, result.RetryAfter));
        Assert.Equal("429 Too Many Requests: Retry later", result.Error);
    }

    [Fact]
    public void Failure_NamesTheStep_TheStatus_TheCredentialsHint_AndTheApiMessage()
    {
        var http = new DestinationHttp(Client, Time);

        var result = http.Failed(new HttpReply(401, """{"message":"Unauthorized"}""", null, null), "find user", body => body.Length > 0 ? "from the API" : null);

        Assert.Equal((DeliveryOutcome.Permanent, 401), (result.Outcome, result.Status));
        Assert.Equal("find user: 401 Unauthorized: check credentials: from the API", result.Error);
        Assert.Null(result.RetryAfter);
    }

    [Fact]
    public void TransportFailure_IsTransient_WithoutStatusOrResponse()
    {
        var http = new DestinationHttp(Client, Time);

        var result = http.Failed(new HttpReply(0, "", null, "timed out"), "webhook");

        Assert.Equal((DeliveryOutcome.Transient, (int?)null, "webhook: timed out", (string?)null), (result.Outcome, result.Status, result.Error, result.Response));
    }

    [Fact]
    public async Task WithoutABaseUrl_ARelativePath_IsRefused()
    {
        var http = new DestinationHttp(Client, Time);

        await Assert.ThrowsAsync<InvalidOperationException>(() => http.SendAsync(HttpMethod.Get, "/v1/users", null, CancellationToken.None));
    }
}
