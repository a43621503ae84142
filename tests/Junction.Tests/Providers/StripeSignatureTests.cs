using Junction.Providers;
using Junction.Integrations.Stripe;

namespace Junction.Tests.Providers;

public sealed class StripeSignatureTests
{
    private const string Secret = "whsec_test_8f3a1c2b9d7e6f5a4b3c2d1e";
    private const string OldSecret = "whsec_old_0a1b2c3d4e5f60718293a4b5";
    private const string Body = """{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","object":"event","type":"payment_intent.succeeded"}""";
    private const long T = 1_790_000_000;

    private static readonly TimeSpan Tolerance = TimeSpan.FromSeconds(300);
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(T);
    private static readonly StripeProvider Provider = new();

    private static WebhookRequest Signed(string header, string body = Body) =>
        TestSigning.Request(body, ("Stripe-Signature", header));

    private static SignatureCheck Verify(WebhookRequest request, params string[] secrets) =>
        Provider.Verify(request, secrets, Tolerance, Now);

    [Fact]
    public void Verify_AcceptsValidSignature()
    {
        var header = $"t={T},v1={TestSigning.StripeV1(Secret, T, Body)}";

        var check = Verify(Signed(header), Secret);

        Assert.True(check.IsValid, check.Detail);
        Assert.Equal(SignatureFailure.None, check.Failure);
    }

    [Fact]
    public void Verify_KeysWithWholeSecretIncludingPrefix_NotTheSuffixAlone()
    {
        // Signed with the part after whsec_ only: must not be accepted.
        var header = $"t={T},v1={TestSigning.StripeV1(Secret["whsec_".Length..], T, Body)}";

        Assert.Equal(SignatureFailure.BadSignature, Verify(Signed(header), Secret).Failure);
    }

    [Fact]
    public void Verify_ReadsHeaderCaseInsensitively()
    {
        var request = TestSigning.Request(Body, ("stripe-signature", $"t={T},v1={TestSigning.StripeV1(Secret, T, Body)}"));

        Assert.True(Verify(request, Secret).IsValid);
    }

    [Fact]
    public void Verify_AcceptsSignatureFromRotatedSecret()
    {
        var header = $"t={T},v1={TestSigning.StripeV1(Secret, T, Body)}";

        var check = Verify(Signed(header), OldSecret, Secret);

        Assert.True(check.IsValid, check.Detail);
    }

    [Fact]
    public void Verify_AcceptsWhenOnlyOneOfSeveralV1EntriesMatches()
    {
        // During a roll Stripe sends one v1 per active secret; we only know one of them.
        var other = TestSigning.StripeV1("whsec_some_other_secret_we_do_not_have", T, Body);
        var ours = TestSigning.StripeV1(Secret, T, Body);

        Assert.True(Verify(Signed($"t={T},v1={other},v1={ours}"), Secret).IsValid);
        Assert.True(Verify(Signed($"t={T},v1={ours},v1={other}"), Secret).IsValid);
    }

    [Fact]
    public void Verify_AcceptsHeaderWithSpacesAroundEntries()
    {
        var header = $"t={T}, v1={TestSigning.StripeV1(Secret, T, Body)}";

        Assert.True(Verify(Signed(header), Secret).IsValid);
    }

    [Fact]
    public void Verify_IgnoresV0Entries()
    {
        var correct = TestSigning.StripeV1(Secret, T, Body);

        // A correct MAC under v0 does not count.
        Assert.Equal(SignatureFailure.BadSignature, Verify(Signed($"t={T},v0={correct},v1={new string('0', 64)}"), Secret).Failure);
        // v0 alone is no v1 at all.
        Assert.Equal(SignatureFailure.MalformedSignature, Verify(Signed($"t={T},v0={correct}"), Secret).Failure);
        // Garbage in v0 does not stop a good v1.
        Assert.True(Verify(Signed($"t={T},v0=not-hex-at-all,v1={correct}"), Secret).IsValid);
    }

    [Fact]
    public void Verify_RejectsTamperedBody()
    {
        var header = $"t={T},v1={TestSigning.StripeV1(Secret, T, Body)}";
        var tampered = Body.Replace("succeeded", "succeedee", StringComparison.Ordinal);
        Assert.Equal(Body.Length, tampered.Length);

        var check = Verify(Signed(header, tampered), Secret);

        Assert.Equal(SignatureFailure.BadSignature, check.Failure);
        Assert.Contains("Stripe-Signature", check.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_RejectsTamperedTimestamp()
    {
        var header = $"t={T + 1},v1={TestSigning.StripeV1(Secret, T, Body)}";

        Assert.Equal(SignatureFailure.BadSignature, Verify(Signed(header), Secret).Failure);
    }

    [Fact]
    public void Verify_RejectsWrongSecret()
    {
        var header = $"t={T},v1={TestSigning.StripeV1(OldSecret, T, Body)}";

        Assert.Equal(SignatureFailure.BadSignature, Verify(Signed(header), Secret).Failure);
    }

    [Fact]
    public void Verify_RejectsWhenNoSecretsConfigured()
    {
        var header = $"t={T},v1={TestSigning.StripeV1(Secret, T, Body)}";

        Assert.Equal(SignatureFailure.BadSignature, Verify(Signed(header)).Failure);
    }

    [Theory]
    [InlineData(-301)]
    [InlineData(301)]
    [InlineData(-86_400)]
    [InlineData(86_400)]
    public void Verify_ReportsStaleTimestamp_PastAndFuture(long offsetSeconds)
    {
        var t = T + offsetSeconds;
        var header = $"t={t},v1={TestSigning.StripeV1(Secret, t, Body)}";

        var check = Verify(Signed(header), Secret);

        Assert.Equal(SignatureFailure.StaleTimestamp, check.Failure);
        Assert.Contains($"{Math.Abs(offsetSeconds)} s", check.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-300)]
    [InlineData(300)]
    public void Verify_AcceptsTimestampExactlyAtToleranceEdge(long offsetSeconds)
    {
        var t = T + offsetSeconds;
        var header = $"t={t},v1={TestSigning.StripeV1(Secret, t, Body)}";

        Assert.True(Verify(Signed(header), Secret).IsValid);
    }

    [Fact]
    public void Verify_ForgedSignatureWithStaleTimestamp_ReportsBadSignature()
    {
        // The clock is only consulted once the MAC matched, so a forger learns nothing about it.
        var t = T - 3600;
        var header = $"t={t},v1={TestSigning.StripeV1("whsec_forger", t, Body)}";

        Assert.Equal(SignatureFailure.BadSignature, Verify(Signed(header), Secret).Failure);
    }

    [Fact]
    public void Verify_ReportsMissingHeader()
    {
        var check = Verify(TestSigning.Request(Body), Secret);

        Assert.Equal(SignatureFailure.MissingSignature, check.Failure);
        Assert.Contains("Stripe-Signature", check.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_ReportsEmptyHeaderAsMissing()
    {
        Assert.Equal(SignatureFailure.MissingSignature, Verify(Signed(""), Secret).Failure);
    }

    [Theory]
    [InlineData("v1=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")] // no t
    [InlineData("t=1790000000")] // no v1
    [InlineData("t=1790000000,v1")] // v1 without '='
    [InlineData("t=soon,v1=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")] // t not a number
    [InlineData("t=-1790000000,v1=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")] // signed t
    [InlineData("garbage")]
    [InlineData(",,,")]
    [InlineData("=,=")]
    public void Verify_ReportsMalformedHeader(string header)
    {
        var check = Verify(Signed(header), Secret);

        Assert.Equal(SignatureFailure.MalformedSignature, check.Failure);
        Assert.Contains("t=<unix seconds>", check.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_UppercaseHex_DoesNotCrashOrReportMalformed()
    {
        // Stripe sends lowercase. Uppercase is the same MAC bytes; accepting or rejecting it are both
        // fine, throwing or calling the header malformed is not.
        var header = $"t={T},v1={TestSigning.StripeV1(Secret, T, Body).ToUpperInvariant()}";

        var check = Verify(Signed(header), Secret);

        Assert.True(check.Failure is SignatureFailure.None or SignatureFailure.BadSignature, check.Failure.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("0")]
    [InlineData("abc")] // odd length
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde")] // 63
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0")] // 65
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef00")] // 66
    [InlineData("zz23456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")] // right length, not hex
    public void Verify_WrongLengthOrNonHexSignature_IsBadNotACrash(string v1)
    {
        Assert.Equal(SignatureFailure.BadSignature, Verify(Signed($"t={T},v1={v1}"), Secret).Failure);
    }

    [Fact]
    public void Verify_CorrectMacWithExtraTrailingHex_IsRejected()
    {
        var header = $"t={T},v1={TestSigning.StripeV1(Secret, T, Body)}00";

        Assert.Equal(SignatureFailure.BadSignature, Verify(Signed(header), Secret).Failure);
    }

    [Fact]
    public void DedupKey_ReadsTopLevelId()
    {
        Assert.Equal("evt_1NG8Du2eZvKYlo2CUI79vXWy", Provider.DedupKey(TestSigning.Request(Body)));
    }

    [Fact]
    public void DedupKey_IgnoresNestedId_EvenWhenItComesFirst()
    {
        const string body = """
            {"data":{"object":{"id":"pi_3MtwBwLkdIwHu7ix28a3tqPa","nested":[{"id":"x"}]}},"type":"payment_intent.succeeded","id":"evt_top"}
            """;

        Assert.Equal("evt_top", Provider.DedupKey(TestSigning.Request(body)));
    }

    [Theory]
    [InlineData("""{"data":{"object":{"id":"pi_123"}},"type":"x"}""")] // only a nested id
    [InlineData("""{"object":"event"}""")]
    [InlineData("""{"id":12345}""")] // not a string
    [InlineData("""{"id":null}""")]
    [InlineData("""["id","evt_1"]""")]
    [InlineData("not json")]
    [InlineData("")]
    [InlineData("""{"type":"x","id":""")] // truncated
    public void DedupKey_ReturnsNull_WhenNoTopLevelStringId(string body)
    {
        Assert.Null(Provider.DedupKey(TestSigning.Request(body)));
    }

    [Fact]
    public void ValidateSecret_RequiresWhsecPrefix()
    {
        Assert.Null(Provider.ValidateSecret(Secret));

        var problem = Provider.ValidateSecret("sk_test_4eC39HqLyjWDarjtT1zdp7dc");
        Assert.NotNull(problem);
        Assert.Contains("whsec_", problem, StringComparison.Ordinal);
        Assert.DoesNotContain("sk_test_4eC39HqLyjWDarjtT1zdp7dc", problem, StringComparison.Ordinal);
        Assert.NotNull(Provider.ValidateSecret("WHSEC_abc"));
    }
}
