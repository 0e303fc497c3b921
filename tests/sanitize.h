// sanitize.h — whether this test binary runs under AddressSanitizer, whose shadow memory and
// redzones make address-space limits and resident-size measurements meaningless.
#ifndef RN_TEST_SANITIZE_H
#define RN_TEST_SANITIZE_H

#if defined(__SANITIZE_ADDRESS__)
#define RN_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RN_UNDER_ASAN 1
#endif
#endif
#ifndef RN_UNDER_ASAN
#define RN_UNDER_ASAN 0
#endif

#endif
