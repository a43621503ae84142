using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Junction.Tests.Providers.PayPal;

/// <summary>
/// A certificate hierarchy like PayPal's (root → intermediate → messageverificationcerts.paypal.com)
/// made in the test, and PayPal's signing done from the scheme description alone (own bitwise
/// CRC-32, no production helper) so a shared mistake cannot hide.
/// </summary>
internal sealed class PayPalSigning : IDisposable
{
    public const string Algorithm = "SHA256withRSA";

    private readonly RSA _leafKey;

    public PayPalSigning(DateTimeOffset now, string leafName = "CN=messageverificationcerts.paypal.com, O=\"PayPal, Inc.\", L=San Jose, S=California, C=US",
        TimeSpan? leafValidFor = null)
    {
        using var rootKey = RSA.Create(2048);
        var rootRequest = new CertificateRequest("CN=Junction Test Root CA", rootKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        rootRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        rootRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        rootRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(rootRequest.PublicKey, false));
        Root = rootRequest.CreateSelfSigned(now.AddYears(-2), now.AddYears(5));

        using var intermediateKey = RSA.Create(2048);
        var intermediateRequest = new CertificateRequest("CN=Junction Test Intermediate CA", intermediateKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        intermediateRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        intermediateRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        intermediateRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(intermediateRequest.PublicKey, false));
        intermediateRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Root, true, false));
        using var intermediatePublic = intermediateRequest.Create(Root, now.AddYears(-1), now.AddYears(4), Serial());
        Intermediate = intermediatePublic.CopyWithPrivateKey(intermediateKey);

        _leafKey = RSA.Create(2048);
        var leafRequest = new CertificateRequest(leafName, _leafKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        leafRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        leafRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        leafRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Intermediate, true, false));
        var validFor = leafValidFor ?? TimeSpan.FromDays(365);
        Leaf = leafRequest.Create(Intermediate, now.AddDays(-1), now.AddDays(-1) + validFor, Serial());
    }

    public X509Certificate2 Root { get; }
    public X509Certificate2 Intermediate { get; }
    public X509Certificate2 Leaf { get; }

    public string RootPem => Root.ExportCertificatePem();

    /// <summary>What PAYPAL-CERT-URL serves: the signing certificate, then the intermediate.</summary>
    public string ChainPem => Leaf.ExportCertificatePem() + "\n" + Intermediate.ExportCertificatePem() + "\n";

    /// <summary>The base64 SHA256withRSA signature of "{id}|{time}|{webhookId}|{crc32(body)}".</summary>
    public string Sign(string transmissionId, string transmissionTime, string webhookId, byte[] body)
    {
        var message = $"{transmissionId}|{transmissionTime}|{webhookId}|{Crc32(body).ToString(CultureInfo.InvariantCulture)}";
        return Convert.ToBase64String(_leafKey.SignData(Encoding.UTF8.GetBytes(message), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
    }

    /// <summary>The five PayPal headers for a body, signed now.</summary>
    public Dictionary<string, string> Headers(byte[] body, string certUrl, DateTimeOffset sentAt, string webhookId = PayPalFixtures.WebhookId,
        string transmissionId = "b2384410-f8d2-11ee-8d1f-6f3b6a1e1c8e")
    {
        var time = sentAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        return new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["PAYPAL-TRANSMISSION-ID"] = transmissionId,
            ["PAYPAL-TRANSMISSION-TIME"] = time,
            ["PAYPAL-TRANSMISSION-SIG"] = Sign(transmissionId, time, webhookId, body),
            ["PAYPAL-CERT-URL"] = certUrl,
            ["PAYPAL-AUTH-ALGO"] = Algorithm,
            ["PAYPAL-AUTH-VERSION"] = "v2",
        };
    }

    /// <summary>Bitwise CRC-32/ISO-HDLC, written independently of the production table.</summary>
    public static uint Crc32(byte[] data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
        }
        return ~crc;
    }

    private static byte[] Serial()
    {
        var serial = RandomNumberGenerator.GetBytes(12);
        serial[0] &= 0x7F; // positive
        return serial;
    }

    public void Dispose()
    {
        _leafKey.Dispose();
        Root.Dispose();
        Intermediate.Dispose();
        Leaf.Dispose();
    }
}
