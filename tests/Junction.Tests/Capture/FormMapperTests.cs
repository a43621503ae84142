using System.Text;
using Junction.Canonical;
using Junction.Capture;
using Junction.Normalize;

namespace Junction.Tests.Capture;

/// <summary>The form mapper on stored raw form posts (as a replay or retry would see them).</summary>
public sealed class FormMapperTests
{
    private static readonly DateTimeOffset Received = new(2026, 11, 20, 16, 0, 0, TimeSpan.Zero);

    private static RawInput Raw(string body, string contentType = "application/x-www-form-urlencoded") => new()
    {
        RawId = "raw-1",
        Source = "landing",
        Provider = "form",
        Body = Encoding.UTF8.GetBytes(body),
        Headers = new Dictionary<string, string>(),
        ContentType = contentType,
        TraceId = "0af7651916cd43dd8448eb211c80319c",
        ReceivedAt = Received,
        DedupKey = "submission:js_1",
    };

    [Fact]
    public void FormPost_MapsToOneOptin_WithConsentPerChannel_AndItsFactKeyFromTheDedupKey()
    {
        var result = new FormMapper().Map(Raw("email=ada%40example.com&consent_email=yes&consent_sms=&consent_sms_wording=Texts+ok%3F&utm_source=ig&first_utm_source=fb"));

        var e = Assert.Single(Assert.IsType<MapResult.Mapped>(result).Events);
        Assert.Equal(EventTypes.Optin, e.Type);
        Assert.Equal(CanonicalEvent.MakeId("landing", "optin:submission:js_1"), e.Id);
        Assert.Equal(Received, e.OccurredAt);
        Assert.Equal("form.submitted", e.ProviderType);
        var email = Assert.Single(e.Consent, c => c.Channel == "email");
        Assert.True(email.Granted);
        Assert.Equal(Received, email.At);
        var sms = Assert.Single(e.Consent, c => c.Channel == "sms");
        Assert.False(sms.Granted);
        Assert.Equal("Texts ok?", sms.Wording);
        Assert.Equal("ig", e.Attribution?.UtmSource);
        Assert.Equal("fb", e.FirstTouch?.UtmSource);
    }

    [Fact]
    public void StoredPostWithABadEmail_IsQuarantinedNamingEmail()
    {
        var result = new FormMapper().Map(Raw("""{"email":"not-an-address"}""", "application/json"));

        var q = Assert.IsType<MapResult.Quarantined>(result);
        Assert.StartsWith("email: expected an email address", q.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void BodyThatIsNotFormFields_IsQuarantinedNamingTheBody()
    {
        var result = new FormMapper().Map(Raw("[1,2]", "application/json"));

        Assert.StartsWith("body: ", Assert.IsType<MapResult.Quarantined>(result).Reason, StringComparison.Ordinal);
    }
}
