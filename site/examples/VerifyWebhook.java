// Verifying a TreatFirst webhook in Java (standard library only, Java 11+). Run: java VerifyWebhook.java
// Standard Webhooks: signed content = webhook-id + "." + webhook-timestamp + "." + raw body;
// webhook-signature = space-separated "v1,<base64 HMAC-SHA256>" (two during a secret rotation).
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

public class VerifyWebhook {
    static final long TOLERANCE_SECONDS = 300;

    /** True when one of the listed v1 signatures matches and the timestamp is within 5 minutes of nowSeconds. */
    public static boolean verify(String secret, String id, String timestamp, String signatures, byte[] body,
                                 long nowSeconds) throws Exception {
        long stamp;
        try {
            stamp = Long.parseLong(timestamp);
        } catch (NumberFormatException e) {
            return false;
        }
        if (Math.abs(nowSeconds - stamp) > TOLERANCE_SECONDS) {
            return false; // replayed or delayed: refuse
        }
        byte[] key = Base64.getDecoder().decode(secret.substring("whsec_".length()));
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
        mac.update((id + "." + timestamp + ".").getBytes(StandardCharsets.UTF_8));
        byte[] expected = mac.doFinal(body); // the RAW body bytes, never a re-serialised JSON
        for (String entry : signatures.split(" ")) {
            String[] parts = entry.split(",", 2);
            if (parts.length == 2 && parts[0].equals("v1")) {
                byte[] given = Base64.getDecoder().decode(parts[1]);
                if (MessageDigest.isEqual(expected, given)) { // constant time
                    return true;
                }
            }
        }
        return false;
    }

    public static void main(String[] args) throws Exception {
        // The Standard Webhooks test vector
        String secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        String id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        String timestamp = "1614265330";
        String signature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
        byte[] body = "{\"test\": 2432232314}".getBytes(StandardCharsets.UTF_8);
        byte[] altered = "{\"test\": 2432232315}".getBytes(StandardCharsets.UTF_8);
        System.out.println("vector " + verify(secret, id, timestamp, signature, body, 1614265330L));
        System.out.println("altered " + verify(secret, id, timestamp, signature, altered, 1614265330L));
        System.out.println("late " + verify(secret, id, timestamp, signature, body, 1614265330L + 301));
    }
}
