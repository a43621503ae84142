using Junction.Providers;
using Junction.Integrations.StandardWebhooks;

namespace Junction.Tests.Providers;

public sealed class StandardWebhooksSignatureTests
{
    // The test vector from the Standard Webhooks spec and reference libraries.
    private const string Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    private const string Id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    private const long Timestamp = 1614265330;
    private const string Body = """{"test": 2432232314}""";
    private const string Expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    // Two more valid keys (24 and 30 bytes), base64.
    private const string OtherSecret = "whsec_d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3";
    private const string ThirdSecret = "whsec_enp6enp6enp6enp6enp6enp6enp6enp6enp6enp6";

    private static readonly TimeSpan Tolerance = TimeSpan.FromMinutes(5);
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(Timestamp);
    private static readonly StandardWebhooksProvider Provider = new();

    private static WebhookRequest Request(string signature, string id = Id, string timestamp = "1614265330", string body = Body) =>
        TestSigning.Request(body, ("webhook-id", id), ("webhook-timestamp", timestamp), ("webhook-signature", signature));

    private static SignatureCheck Verify(WebhookRequest request, params string[] secrets) =>
        Provider.Verify(request, secrets, Tolerance, Now);

    [Fact]
    public void TestHelper_ReproducesSpecVector()
    {
        Assert.Equal(Expected, TestSigning.StandardV1(Secret, Id, Timestamp, Body));
    }

    [Fact]
    public void Verify_AcceptsSpecTestVector()
    {
        var check = Verify(Request(Expected), Secret);

        Assert.True(check.IsValid, check.Detail);
    }

    [Fact]
    public void Verify_RejectsSpecTestVectorTenMinutesLater_AsStale()
    {
        var check = Provider.Verify(Request(Expected), [Secret], Tolerance, Now.AddMinutes(10));

        Assert.Equal(SignatureFailure.StaleTimestamp, check.Failure);
        Assert.Contains("webhook-timestamp", check.Detail, StringComparison.Ordinal);
        Assert.Contains("600 s", check.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_RejectsTimestampTenMinutesInTheFuture_AsStale()
    {
        var check = Provider.Verify(Request(Expected), [Secret], Tolerance, Now.AddMinutes(-10));

        Assert.Equal(SignatureFailure.StaleTimestamp, check.Failure);
    }

    [Theory]
    [InlineData(-300)]
    [InlineData(300)]
    public void Verify_AcceptsTimestampExactlyAtToleranceEdge(int offsetSeconds)
    {
        Assert.True(Provider.Verify(Request(Expected), [Secret], Tolerance, Now.AddSeconds(offsetSeconds)).IsValid);
    }

    [Fact]
    public void Verify_ForgedSignatureWithStaleTimestamp_ReportsBadSignature()
    {
        var forged = TestSigning.StandardV1(OtherSecret, Id, Timestamp, Body);

        var check = Provider.Verify(Request(forged), [Secret], Tolerance, Now.AddHours(1));

        Assert.Equal(SignatureFailure.BadSignature, check.Failure);
    }

    [Fact]
    public void Verify_AcceptsAnyOfSeveralSpaceSeparatedSignatures()
    {
        var other = TestSigning.StandardV1(OtherSecret, Id, Timestamp, Body);

        Assert.True(Verify(Request($"{other} {Expected}"), Secret).IsValid);
        Assert.True(Verify(Request($"{Expected} {other}"), Secret).IsValid);
        Assert.True(Verify(Request($"{other}  {Expected}"), Secret).IsValid);
    }

    [Fact]
    public void Verify_AcceptsSignatureFromRotatedSecret()
    {
        var signature = TestSigning.StandardV1(ThirdSecret, Id, Timestamp, Body);

        Assert.True(Verify(Request(signature), Secret, ThirdSecret).IsValid);
        Assert.Equal(SignatureFailure.BadSignature, Verify(Request(signature), Secret).Failure);
    }

    [Fact]
    public void Verify_SkipsV1aEntries()
    {
        // An ed25519 entry first does not fail the request; on its own it matches nothing.
        var v1a = "v1a," + Convert.ToBase64String(new byte[64]);

        Assert.True(Verify(Request($"{v1a} {Expected}"), Secret).IsValid);
        Assert.Equal(SignatureFailure.BadSignature, Verify(Request(v1a), Secret).Failure);
        // The right MAC under the v1a label is not a v1 signature.
        Assert.Equal(SignatureFailure.BadSignature, Verify(Request("v1a," + Expected[3..]), Secret).Failure);
    }

    [Fact]
    public void Verify_AcceptsSecretWithoutWhsecPrefix()
    {
        Assert.True(Verify(Request(Expected), Secret["whsec_".Length..]).IsValid);
    }

    [Fact]
    public void Verify_SkipsUndecodableSecret_AndStillTriesTheOthers()
    {
        Assert.True(Verify(Request(Expected), "whsec_not base64!", Secret).IsValid);
    }

    [Fact]
    public void Verify_RejectsTamperedId()
    {
        Assert.Equal(SignatureFailure.BadSignature, Verify(Request(Expected, id: "msg_p5jXN8AQM9LWM0D4loKWxJel"), Secret).Failure);
    }

    [Fact]
    public void Verify_RejectsTamperedTimestamp()
    {
        Assert.Equal(SignatureFailure.BadSignature, Verify(Request(Expected, timestamp: "1614265331"), Secret).Failure);
    }

    [Fact]
    public void Verify_RejectsTamperedBody()
    {
        var check = Verify(Request(Expected, body: """{"test": 2432232315}"""), Secret);

        Assert.Equal(SignatureFailure.BadSignature, check.Failure);
        Assert.Contains("webhook-signature", check.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_AcceptsSvixHeaders()
    {
        var request = TestSigning.Request(Body, ("svix-id", Id), ("svix-timestamp", "1614265330"), ("svix-signature", Expected));

        Assert.True(Verify(request, Secret).IsValid);
        Assert.Equal(Id, Provider.DedupKey(request));
    }

    [Fact]
    public void Verify_ReadsHeadersCaseInsensitively()
    {
        var request = TestSigning.Request(Body, ("Webhook-Id", Id), ("WEBHOOK-TIMESTAMP", "1614265330"), ("Webhook-Signature", Expected));

        Assert.True(Verify(request, Secret).IsValid);
    }

    [Fact]
    public void Verify_ReportsMissingSignatureHeader()
    {
        var request = TestSigning.Request(Body, ("webhook-id", Id), ("webhook-timestamp", "1614265330"));

        var check = Verify(request, Secret);

        Assert.Equal(SignatureFailure.MissingSignature, check.Failure);
        Assert.Contains("webhook-signature", check.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_ReportsMissingIdHeader()
    {
        var request = TestSigning.Request(Body, ("webhook-timestamp", "1614265330"), ("webhook-signature", Expected));

        var check = Verify(request, Secret);

        Assert.Equal(SignatureFailure.MissingSignature, check.Failure);
        Assert.Contains("webhook-id", check.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_ReportsMissingTimestampHeader()
    {
        var request = TestSigning.Request(Body, ("webhook-id", Id), ("webhook-signature", Expected));

        var check = Verify(request, Secret);

        Assert.Equal(SignatureFailure.MissingSignature, check.Failure);
        Assert.Contains("webhook-timestamp", check.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("-1614265330")]
    [InlineData(" 1614265330")]
    [InlineData("1614265330.5")]
    [InlineData("99999999999999999999999")]
    public void Verify_ReportsMalformedTimestamp(string timestamp)
    {
        Assert.Equal(SignatureFailure.MalformedSignature, Verify(Request(Expected, timestamp: timestamp), Secret).Failure);
    }

    [Theory]
    [InlineData("g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")] // no version label
    [InlineData("v1,")]
    [InlineData("v1,not base64!!")]
    [InlineData("v1,QUJD")]
    [InlineData("v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")]
    public void Verify_GarbageSignature_IsBadNotACrash(string signature)
    {
        Assert.Equal(SignatureFailure.BadSignature, Verify(Request(signature), Secret).Failure);
    }

    [Fact]
    public void DedupKey_IsWebhookId()
    {
        Assert.Equal(Id, Provider.DedupKey(Request(Expected)));
        Assert.Null(Provider.DedupKey(TestSigning.Request(Body)));
    }

    [Theory]
    [InlineData(Secret)]
    [InlineData("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")] // no prefix
    [InlineData("whsec_d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3")] // 24 bytes
    [InlineData("whsec_enp6enp6enp6enp6enp6enp6enp6enp6enp6enp6enp6enp6enp6enp6enp6enp6enp6enp6enp6enp6enp6eg==")] // 64 bytes
    public void ValidateSecret_AcceptsBase64KeysOf24To64Bytes(string secret)
    {
        Assert.Null(Provider.ValidateSecret(secret));
    }

    [Theory]
    [InlineData("whsec_not base64!")]
    [InlineData("whsec_eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHg=")] // 23 bytes
    [InlineData("whsec_eXl5eXl5eXl5eXl5eXl5eXl5eXl5eXl5eXl5eXl5eXl5eXl5eXl5eXl5eXl5eXl5eXl5eXl5eXl5eXl5eXl5eXk=")] // 65 bytes
    [InlineData("whsec_c2hvcnQ=")]
    public void ValidateSecret_RejectsNonBase64AndWrongLengthKeys(string secret)
    {
        var problem = Provider.ValidateSecret(secret);

        Assert.NotNull(problem);
        Assert.Contains("whsec_", problem, StringComparison.Ordinal);
        Assert.DoesNotContain(secret["whsec_".Length..], problem, StringComparison.Ordinal);
    }

    [Fact]
    public void ValidateSecret_RejectsEmptyKey()
    {
        Assert.NotNull(Provider.ValidateSecret("whsec_"));
        Assert.NotNull(Provider.ValidateSecret(""));
    }
}
